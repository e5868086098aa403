using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway.Payload;

/// <summary>
/// A JSON request body read as the gateway reads a chat request: decoded as strict UTF-8 first (the JSON reader does
/// not check the bytes inside strings, so a string that is not UTF-8 would otherwise fail later, where it is used),
/// then parsed as one JSON object with no key given twice and no string escaping a lone surrogate. The local model
/// server and the admin API read their bodies with it.
/// </summary>
internal static class RequestBody
{
    public const string InvalidEncoding = "invalid_encoding";
    public const string InvalidJson = "invalid_json";

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly JsonDocumentOptions s_options = new() { AllowDuplicateProperties = false };

    /// <summary>The body as an object, or null with an error code (<see cref="InvalidEncoding"/>, <see cref="InvalidJson"/>) and why.</summary>
    public static async Task<(JsonObject? Body, string Code, string Message)> ReadObjectAsync(HttpRequest request, CancellationToken cancel)
    {
        string text;
        try
        {
            using var reader = new StreamReader(request.Body, s_utf8, detectEncodingFromByteOrderMarks: false);
            text = await reader.ReadToEndAsync(cancel).ConfigureAwait(false);
        }
        catch (DecoderFallbackException)
        {
            return (null, InvalidEncoding, "the request is not UTF-8 (invalid-encoding)");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: s_options);
        }
        catch (JsonException e)
        {
            return (null, InvalidJson, $"the request is not a JSON object: {e.Message}");
        }
        catch (InvalidOperationException)
        {
            // The reader cannot compare a field name that escapes a lone surrogate with the others (the check for a
            // key given twice reads every name as text).
            return (null, InvalidEncoding, "the request is not text: a field name escapes a lone surrogate (invalid-encoding)");
        }

        if (node is not JsonObject body) return (null, InvalidJson, "the request is not a JSON object: not an object");
        if (!JsonStrings.IsText(body)) return (null, InvalidEncoding, "the request is not text: a string escapes a lone surrogate (invalid-encoding)");
        return (body, "", "");
    }
}
