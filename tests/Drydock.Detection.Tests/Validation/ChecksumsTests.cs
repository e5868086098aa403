using Drydock.Detection.Engine;
using Drydock.Detection.Validation;

namespace Drydock.Detection.Tests.Validation;

public class ChecksumsTests
{
    [Theory]
    [InlineData("4539 1488 0343 6467", true)]
    [InlineData("4539-1488-0343-6468", false)]
    [InlineData("371449635398431", true)]
    [InlineData("12a4", false)]
    public void Luhn_KnownNumbers(string value, bool valid) => Assert.Equal(valid, Checksums.Luhn(value));

    [Theory]
    [InlineData("DE89 3704 0044 0532 0130 00", true)]
    [InlineData("GB29NWBK60161331926819", true)]
    [InlineData("GB29NWBK60161331926818", false)]
    [InlineData("DE89 3704 0044 0532 0130", false)]
    [InlineData("XX89370400440532013000", false)]
    public void Iban_CountryLengthAndMod97(string value, bool valid) => Assert.Equal(valid, Checksums.Iban(value));

    [Theory]
    [InlineData("536-90-4399", true)]
    [InlineData("000-12-3456", false)]
    [InlineData("666-12-3456", false)]
    [InlineData("912-12-3456", false)]
    [InlineData("536-00-4399", false)]
    [InlineData("536-90-0000", false)]
    public void UsSsn_ExcludedAreasGroupsAndSerials(string value, bool valid) => Assert.Equal(valid, Checksums.UsSsn(value));

    [Fact]
    public void GitHubTokenChecksum_ValidAndTampered()
    {
        Assert.True(Checksums.GitHubTokenChecksum("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"));
        Assert.False(Checksums.GitHubTokenChecksum("ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8024xXJ"));
    }

    [Theory]
    [InlineData("2345 6789 0124", true)]
    [InlineData("2345 6789 0123", false)]
    public void Verhoeff_Aadhaar(string value, bool valid) => Assert.Equal(valid, Checksums.Verhoeff(value));

    [Theory]
    [InlineData("12345678Z", true)]
    [InlineData("X1234567L", true)]
    [InlineData("12345678A", false)]
    public void SpanishDni_CheckLetter(string value, bool valid) => Assert.Equal(valid, Checksums.SpanishDni(value));

    [Theory]
    [InlineData("RSSMRA85T10A562S", true)]
    [InlineData("RSSMRA85T10A562X", false)]
    public void ItalianFiscalCode_CheckCharacter(string value, bool valid) => Assert.Equal(valid, Checksums.ItalianFiscalCode(value));

    [Theory]
    [InlineData("JG 10 37 72 A", true)]
    [InlineData("BG 12 34 56 A", false)]
    [InlineData("QQ 12 34 56 C", false)]
    public void UkNino_PrefixRules(string value, bool valid) => Assert.Equal(valid, Checksums.UkNino(value));

    [Theory]
    [InlineData("AKIAIOSFODNN7EXAMPLE", true)]
    [InlineData("xxxxxxxxxxxxxxxx", true)]
    [InlineData("${AWS_SECRET}", true)]
    [InlineData("<your-api-key>", true)]
    [InlineData("7`D}/vYR)T;W5]EBrf;_&k>qX??]G&3CF=;@vyrVBp", false)]
    [InlineData("a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8NRAL", true)]
    [InlineData("d0d3mS8gBlKv3azKgaS/m/x+SHuKBD+vok/nPTmZ", false)]
    public void Placeholders_DocumentationValues(string value, bool placeholder) => Assert.Equal(placeholder, Placeholders.IsPlaceholder(value));

    [Fact]
    public void Entropy_OrdersRandomAboveRepetitive()
    {
        Assert.Equal(0, Entropy.Shannon("aaaaaaaa"));
        Assert.Equal(1, Entropy.Shannon("abababab"), 3);
        Assert.True(Entropy.Shannon("d0d3mS8gBlKv3azKgaS/m/x+SHuKBD+vok/nPTmZ") > 4.0);
    }

    [Fact]
    public void MaskValue_KeepsPunctuationAndAtMostAQuarterAsPrefix()
    {
        Assert.Equal("***-**-****", Masking.MaskValue("536-90-4399"));
        Assert.Equal("ghp_" + new string('*', 20) + "…", Masking.MaskValue("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", 4));
        Assert.Equal("ab******", Masking.MaskValue("abcdefgh", 8));
    }
}
