using System.Text;

namespace Drydock.Gateway.Guards;

/// <summary>
/// Reads a tool call's arguments, JSON text that a stream sends in pieces, and returns the characters of its string
/// values as they arrive (not its keys, nor the JSON around them; escapes as written, which the matcher reads): a value
/// split across two calls' arguments is whole in the values joined. Arguments that are not JSON yield nothing here (their
/// text is judged as it is).
/// </summary>
internal sealed class ArgumentValues
{
    // Open containers, innermost last: true for an object, false for a list.
    private readonly Stack<bool> _open = new();
    private bool _inString;
    private bool _isKey;
    private bool _escape;
    private bool _expectKey;

    /// <summary>The value characters of the next piece of the arguments.</summary>
    public string Read(string piece)
    {
        StringBuilder? values = null;
        foreach (var c in piece)
        {
            if (_inString)
            {
                if (_escape) _escape = false;
                else if (c == '\\') _escape = true;
                else if (c == '"')
                {
                    _inString = false;
                    continue;
                }

                if (!_isKey) (values ??= new StringBuilder(piece.Length)).Append(c);
                continue;
            }

            switch (c)
            {
                case '"':
                    _inString = true;
                    _isKey = _expectKey;
                    break;
                case '{':
                    _open.Push(true);
                    _expectKey = true;
                    break;
                case '[':
                    _open.Push(false);
                    _expectKey = false;
                    break;
                case '}' or ']':
                    if (_open.Count > 0) _open.Pop();
                    _expectKey = false;
                    break;
                case ':':
                    _expectKey = false;
                    break;
                case ',':
                    _expectKey = _open.Count > 0 && _open.Peek();
                    break;
            }
        }

        return values?.ToString() ?? "";
    }
}
