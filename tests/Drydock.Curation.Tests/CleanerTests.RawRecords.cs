using Drydock.Tests.Shared;

namespace Drydock.Curation.Tests;

/// <summary>Records are written back by what the reader read (a JSON record or a CSV row), never by how their text begins.</summary>
public partial class CleanerTests
{
    [Fact]
    public void Clean_JsonRecordWhoseFirstKeyIsDelimiter_IsRewrittenAsJson()
    {
        // A JSON record that begins like the CSV reader's old kept-row text ({"delimiter": …) is still a JSON record.
        using var dir = new TempDir();
        var input = dir.File("in.jsonl",
            """{"delimiter": ";", "header": ["a"], "messages": [{"role": "user", "content": "Mail me at maria.lopez@harbor-mail.net please"}, {"role": "assistant", "content": "Sure."}]}""" + "\n" +
            """{"delimiter": ",", "messages": [{"role": "user", "content": "What is the fee for a wire transfer?"}, {"role": "assistant", "content": "It is 5 euros."}]}""" + "\n");
        var (manifest, options) = Clean(dir, input);

        var lines = File.ReadAllLines(options.Output);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("""{"delimiter":";","header":["a"],"messages":[{"role":"user","content":"Mail me at """, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("maria.lopez@harbor-mail.net", lines[0], StringComparison.Ordinal);
        Assert.Equal("""{"delimiter": ",", "messages": [{"role": "user", "content": "What is the fee for a wire transfer?"}, {"role": "assistant", "content": "It is 5 euros."}]}""", lines[1]);
        Assert.Equal(2, manifest.Records);
    }
}
