using System.Net.Http.Headers;
using System.Text;
using Drydock.Gateway.Tests;
using Drydock.Tests.Shared;

namespace Drydock.Cli.Tests;

/// <summary>
/// The local model server (<c>drydock serve-model</c>) and the gateway's admin API read request bodies as the gateway
/// reads a chat request: strict UTF-8 first, so a string holding a byte that is not UTF-8 (or escaping a lone
/// surrogate) is refused with 400 <c>invalid_encoding</c> instead of being parsed with the byte replaced or failing
/// where the string is used. Each runs as users run it, as its own process.
/// </summary>
public sealed class RequestEncodingProcessTests : IDisposable
{
    private const string InvalidByte = "\u00FF"; // written as the single byte 0xFF, never UTF-8
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // The text with each U+00FF written as the byte 0xFF, the rest as UTF-8.
    private static byte[] Bytes(string text) => [.. text.Split(InvalidByte).SelectMany((part, i) => i == 0 ? Encoding.UTF8.GetBytes(part) : [0xFF, .. Encoding.UTF8.GetBytes(part)])];

    private static async Task<(int Status, string Body)> Post(HttpClient http, string url, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(url, content, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ServeModel_ABodyThatIsNotUtf8Text_IsRefusedAsInvalidEncoding()
    {
        TinyOnnx.Write(Path.Combine(_dir.Path, "tiny"));
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var server = DrydockProcess.Start(_dir.Path, ["serve-model", "tiny", "--listen", url]);
        await server.WaitUntilListening(new Uri(url + "/v1/models"));
        using var http = new HttpClient();

        // Readable requests are answered.
        var completion = await Post(http, url + "/v1/completions", Bytes("""{"model":"tiny","prompt":"hello","max_tokens":2}"""));
        Assert.True(completion.Status == 200, completion.Body);
        var chat = await Post(http, url + "/v1/chat/completions", Bytes("""{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":2}"""));
        Assert.True(chat.Status == 200, chat.Body);

        foreach (var (path, body) in new[]
        {
            ("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"he" + InvalidByte + "llo\",\"max_tokens\":2}"),
            ("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"he" + InvalidByte + "llo\"}],\"max_tokens\":2}"),
            ("/v1/completions", """{"model":"tiny","prompt":"he\ud800llo","max_tokens":2}"""),
        })
        {
            var (status, answer) = await Post(http, url + path, Bytes(body));
            Assert.True(status == 400, $"{path}: {status} {answer}");
            Assert.Contains("invalid_encoding", answer, StringComparison.Ordinal);
        }

        // Not JSON at all stays the error it was.
        var notJson = await Post(http, url + "/v1/completions", Bytes("{"));
        Assert.Equal(400, notJson.Status);
        Assert.Contains("must be a JSON object", notJson.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminApi_ABodyThatIsNotUtf8Text_IsRefusedAsInvalidEncoding()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        Assert.Equal(0, (await DrydockProcess.Run(_dir.Path, "init")).Exit);
        var admin = await DrydockProcess.Run(_dir.Path, "keys", "create", "--name", "oncall", "--admin");
        Assert.True(admin.Exit == 0, admin.ToString());
        var url = $"http://127.0.0.1:{DrydockProcess.FreePort()}";
        using var gateway = DrydockProcess.Start(_dir.Path, ["serve", "--upstream", upstream.BaseUrl, "--listen", url]);
        await gateway.WaitUntilListening(new Uri(url + "/healthz"));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin.Stdout.Trim());

        // A readable request is judged on its fields.
        var unknown = await Post(http, url + "/admin/keys/revoke", Bytes("""{"id":"no-such-key"}"""));
        Assert.True(unknown.Status == 400, unknown.Body);
        Assert.Contains("no key no-such-key", unknown.Body, StringComparison.Ordinal);

        foreach (var body in new[] { "{\"id\":\"no-such" + InvalidByte + "\"}", """{"id":"no-such\udc00"}""", "{\"model\":\"tiny" + InvalidByte + "\"}" })
        {
            var path = body.Contains("model", StringComparison.Ordinal) ? "/admin/contain" : "/admin/keys/revoke";
            var (status, answer) = await Post(http, url + path, Bytes(body));
            Assert.True(status == 400, $"{path}: {status} {answer}");
            Assert.Contains("invalid_encoding", answer, StringComparison.Ordinal);
        }

        var notJson = await Post(http, url + "/admin/keys/revoke", Bytes("[1]"));
        Assert.Equal(400, notJson.Status);
        Assert.Contains("invalid_json", notJson.Body, StringComparison.Ordinal);
    }
}
