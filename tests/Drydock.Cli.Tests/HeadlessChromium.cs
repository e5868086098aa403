using System.Diagnostics;

namespace Drydock.Cli.Tests;

/// <summary>Debian's chromium, headless, for the tests that render pages in a real browser (test.sh installs it).</summary>
internal static class HeadlessChromium
{
    /// <summary>The browser's path; skips the test (or fails it under DRYDOCK_REQUIRE_BROWSER=1) when there is none.</summary>
    public static string Find()
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        if (chromium is not null) return chromium;
        if (Environment.GetEnvironmentVariable("DRYDOCK_REQUIRE_BROWSER") == "1") Assert.Fail("chromium is not installed but DRYDOCK_REQUIRE_BROWSER=1");
        Assert.Skip("chromium is not installed (./test.sh installs it)");
        return "";
    }

    /// <summary>The options every run takes: headless, no network side-traffic, a throw-away profile.</summary>
    public static string[] Options(string profile) =>
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}"];

    /// <summary>Runs the browser (90 s at most) and returns its standard output; a failing run fails the test.</summary>
    public static async Task<string> Run(string file, string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, await stderr);
        return await stdout;
    }
}
