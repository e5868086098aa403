namespace Drydock.Curation.Cleaning;

/// <summary>
/// Where each record past exact de-duplication came from, by ordinal: a file index and a line, a few bytes per record
/// even for millions; the ledger names records by it.
/// </summary>
internal sealed class RecordPositions
{
    private readonly List<string> _files = [];
    private readonly List<(int File, long Line)> _positions = [];

    /// <summary>Records the next record's place (records arrive in input order) and returns its ordinal.</summary>
    public int Add(string file, long line)
    {
        if (_files.Count == 0 || !string.Equals(_files[^1], file, StringComparison.Ordinal)) _files.Add(file);
        _positions.Add((_files.Count - 1, line));
        return _positions.Count - 1;
    }

    /// <summary>"file:line" of the record with <paramref name="ordinal"/>.</summary>
    public string Where(int ordinal) => $"{_files[_positions[ordinal].File]}:{_positions[ordinal].Line}";
}
