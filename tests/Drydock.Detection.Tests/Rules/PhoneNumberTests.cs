using Drydock.Detection.Engine;
using Drydock.Detection.Rules;

namespace Drydock.Detection.Tests.Rules;

/// <summary>Phone numbers as people write them, and numbers of the same shape that are not phones.</summary>
public class PhoneNumberTests
{
    private static readonly Detector s_detector = Detector.Create(BuiltInRules.All);

    [Theory]
    [InlineData("You can reach me on +91 9988776655 after six.", "+91 9988776655")]
    [InlineData("My number is +91-9988776655, please call.", "+91-9988776655")]
    [InlineData("From abroad dial 0091 9988776655.", "0091 9988776655")]
    [InlineData("Mobile: +44-7911123456", "+44-7911123456")]
    [InlineData("Text me at +1 4155552671 if it fails.", "+1 4155552671")]
    [InlineData("Please call me back on (389) 641-2290 about the claim.", "(389) 641-2290")]
    [InlineData("Phone: 389-641-2290", "389-641-2290")]
    [InlineData("Cell: +1 (389) 641-2290", "+1 (389) 641-2290")]
    public void Scan_PhoneAsWritten_ReportsPhoneNumber(string text, string number)
    {
        var finding = Assert.Single(s_detector.Scan(text), f => f.Type == "phone-number");
        Assert.Equal(number, text[finding.Start..finding.End]);
    }

    [Theory]
    // An unassigned area code is a phone only where a phone word names it.
    [InlineData("Case (389) 641-2290 was merged into the parent case.")]
    [InlineData("Reference number: 389-641-2290")]
    [InlineData("Order (389) 641-2290 is on its way.")]
    [InlineData("Claim number 389-641-2290; call the adjuster tomorrow.")]
    [InlineData("Call back about ref 123-456-7890 tomorrow.")]
    [InlineData("The placeholder is (555) 123-4567 in every form, call it.")]
    [InlineData("Call me about order 4155552671 please.")]
    [InlineData("The score went from +91 to +12 in the second half.")]
    [InlineData("Order ID: +44-20240115001")]
    [InlineData("Call the 2024 1033 0045 invoice line.")]
    [InlineData("Call: ticket 389-641-2290 is closed.")]
    [InlineData("Account no 0044 1234 5678 90 is closed.")]
    public void Scan_NotAPhone_ReportsNoPhoneNumber(string text) =>
        Assert.DoesNotContain(s_detector.Scan(text), f => f.Type == "phone-number");
}
