using System.Security.Cryptography;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Rules;

/// <summary>
/// A private key block cut off before its END line (an answer that reached its token limit, a truncated file) is the key
/// from its BEGIN line to the end of its base64 body; and values written with Cyrillic or Greek look-alike letters are
/// found on their original characters, while Russian and Greek prose is not rewritten into findings.
/// </summary>
public sealed class TruncatedKeyAndLookAlikeTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);

    private static string Body(int lines) => string.Join('\n', Convert.ToBase64String(RandomNumberGenerator.GetBytes(lines * 48)).Chunk(64).Select(c => new string(c)));

    [Theory]
    [InlineData("RSA PRIVATE KEY", "private-key-rsa", "")]
    [InlineData("EC PRIVATE KEY", "private-key-ec", "")]
    [InlineData("OPENSSH PRIVATE KEY", "private-key-openssh", "")]
    [InlineData("PRIVATE KEY", "private-key", "")]
    [InlineData("ENCRYPTED PRIVATE KEY", "private-key", "")]
    [InlineData("RSA PRIVATE KEY", "private-key-rsa", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,5E2C3A1B9F0D4E6A7B8C9D0E1F2A3B4C\n\n")]
    [InlineData("PGP PRIVATE KEY BLOCK", "private-key-pgp", "Version: GnuPG v2\n\n")]
    public void AKeyWithoutItsEndLine_IsFound_FromBeginToTheEndOfItsBody(string kind, string type, string headers)
    {
        var body = Body(10)[..^17];
        var key = $"-----BEGIN {kind}-----\n{headers}{body}";
        foreach (var after in new[] { "", "\n", "\n\nThat was the key, keep it safe." })
        {
            var text = "Here it is:\n" + key + after;
            var found = s_detector.Scan(text).Where(f => f.Type == type).ToList();
            Assert.True(found.Count == 1, $"{kind} {after.Length}: {found.Count} findings");
            Assert.Equal(text.IndexOf("-----BEGIN", StringComparison.Ordinal), found[0].Start);
            Assert.Equal(text.IndexOf(key, StringComparison.Ordinal) + key.Length, found[0].End);
            Assert.DoesNotContain(body[..16], found[0].Excerpt, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AKeyWithItsEndLine_IsStillFoundToTheEndLine()
    {
        var text = $"x\n-----BEGIN RSA PRIVATE KEY-----\n{Body(8)}\n-----END RSA PRIVATE KEY-----\nmore";
        var found = Assert.Single(s_detector.Scan(text), f => f.Type == "private-key-rsa");
        Assert.Equal(text.IndexOf("-----END RSA PRIVATE KEY-----", StringComparison.Ordinal) + 29, found.End);
    }

    [Theory]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\n")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n")]
    [InlineData("-----BEGIN PRIVATE KEY-----\n<your key here>\n")]
    [InlineData("The file starts with -----BEGIN RSA PRIVATE KEY----- and then the key follows on the next lines.")]
    public void ABeginLineWithoutABody_IsNotAKey(string text)
    {
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Category == Categories.Secret);
    }

    [Theory]
    [InlineData("key \u0410\u041A\u0406\u0410Q3EGRL5TFZ6XW7NB here", "aws-access-key-id", "\u0410\u041A\u0406\u0410Q3EGRL5TFZ6XW7NB")]
    [InlineData("key AKIAQ3EGRL5TFZ6XW7N\u0412 here", "aws-access-key-id", "AKIAQ3EGRL5TFZ6XW7N\u0412")]
    [InlineData("mail maria.g\u043Enzalez@fastmail.com now", "email", "maria.g\u043Enzalez@fastmail.com")]
    [InlineData("mail maria.gonzalez@f\u0430stm\u03B1il.com now", "email", "maria.gonzalez@f\u0430stm\u03B1il.com")]
    public void ValuesWithLookAlikeLetters_AreFound_OnTheirOriginalCharacters(string text, string type, string value)
    {
        var found = Assert.Single(s_detector.Scan(text), f => f.Type == type);
        Assert.Equal(value, text[found.Start..found.End]);
    }

    [Fact]
    public void AKeyBlockWithLookAlikeLettersInBeginAndEnd_IsFound()
    {
        var pem = $"-----B\u0415GIN RSA PRIV\u0410TE KEY-----\n{Body(8)}\n-----\u0415ND RSA PRIVATE K\u0415Y-----";
        var text = "here: " + pem + " ok";
        var found = Assert.Single(s_detector.Scan(text), f => f.Type == "private-key-rsa");
        Assert.Equal(pem, text[found.Start..found.End]);
    }

    [Theory]
    [InlineData("Привет! Меня зовут Анна, я работаю в компании с 2015 года. Напишите мне завтра, пожалуйста.")]
    [InlineData("Сервер Windows-сервер и база данных PostgreSQL работают; пароль меняется каждый месяц.")]
    [InlineData("Καλημέρα σας! Το κατάστημα είναι ανοιχτό από τις 9 έως τις 17, εκτός Κυριακής.")]
    [InlineData("Ο κωδικός πρόσβασης αλλάζει κάθε μήνα· επικοινωνήστε με την υποστήριξη για βοήθεια.")]
    public void RussianAndGreekProse_HasNoSecretOrPersonalFinding(string text)
    {
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Category is Categories.Secret or Categories.Pii);

        // Words of Cyrillic or Greek alone are not folded at all (the same string comes back).
        var prose = text.Replace("Windows-", "", StringComparison.Ordinal).Replace("PostgreSQL", "", StringComparison.Ordinal);
        Assert.Same(prose, LookAlikes.Fold(prose));
    }

    [Fact]
    public void Fold_KeepsEveryOffset_AndFoldsOnlyWordsWithLatinOrValuePunctuation()
    {
        const string text = "АКІАQ3 и АКІА ok-\u0435";
        var folded = LookAlikes.Fold(text);
        Assert.Equal(text.Length, folded.Length);
        Assert.Equal("AKIAQ3 и АКІА ok-e", folded);
    }
}
