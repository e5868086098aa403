using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Drydock.Detection.Engine;
using Drydock.Detection.Rules;
using Drydock.Gateway;
using Drydock.Gateway.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Drydock.Bench;

/// <summary>
/// Added latency of the gateway: N sequential chat requests to a fast local upstream, directly and through the
/// gateway (guards on: key check, tier, rate limiter, input and output detection), p50/p99 of each.
/// </summary>
internal static class GatewayBench
{
    /// <summary>
    /// Serves only the fast upstream on <paramref name="url"/> until stopped: the upstream of the wrk comparison
    /// (bench/gateway/wrk.sh), which runs the real <c>drydock serve</c> and nginx in front of it, each its own process.
    /// </summary>
    public static async Task<int> Upstream(string url)
    {
        var upstream = await StartUpstream(url);
        Console.WriteLine($"upstream {upstream.Urls.First()}");
        await upstream.WaitForShutdownAsync(); // until SIGTERM
        return 0;
    }

    private static async Task<WebApplication> StartUpstream(string upstreamUrl)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(upstreamUrl);
        var upstream = builder.Build();
        const string answer = """{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Your order 1182 ships on Monday; the tracking link arrives by email. Is there anything else I can help with today?"},"finish_reason":"stop"}]}""";
        upstream.MapPost("/v1/chat/completions", (RequestDelegate)(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer);
        }));
        upstream.MapGet("/v1/models", (RequestDelegate)(context => context.Response.WriteAsync("""{"object":"list","data":[{"id":"m","object":"model"}]}""")));
        await upstream.StartAsync();
        return upstream;
    }

    private static async Task<(WebApplication Upstream, GatewayHost Gateway, string Key, string Folder)> Start(string upstreamUrl, string gatewayUrl)
    {
        var upstream = await StartUpstream(upstreamUrl);
        var folder = Path.Combine(Path.GetTempPath(), "drydock-gateway-bench-" + Guid.NewGuid().ToString("N"));
        var keys = ApiKeyStore.Open(folder);
        var (key, _) = keys.Create("bench", "bench", [], null);
        var tiers = GatewayOptions.DefaultTiers.ToDictionary(t => t.Name);
        tiers["bench"] = new Tier("bench", ["*"], 4096, true, GuardMode.Block, GuardMode.Redact, int.MaxValue / 2, int.MaxValue / 2);
        var options = new GatewayOptions { Upstream = new Uri(upstream.Urls.First() + "/v1"), Tiers = tiers, AuditFolder = Path.Combine(folder, "requests") };
        var gateway = await GatewayHost.StartAsync(options, new GatewayServices(keys, Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers)), gatewayUrl);
        return (upstream, gateway, key, folder);
    }

    public static async Task<int> Run(int requests)
    {
        var (upstream, gatewayHost, key, folder) = await Start("http://127.0.0.1:0", "http://127.0.0.1:0");
        await using var gateway = gatewayHost;

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        const string body = """{"model":"m","max_tokens":200,"messages":[{"role":"system","content":"You are a support assistant."},{"role":"user","content":"When does my order 1182 ship, and how will I know?"}]}""";
        async Task<List<double>> Measure(string url)
        {
            var times = new List<double>();
            for (var i = 0; i < requests + 200; i++)
            {
                var watch = Stopwatch.StartNew();
                using var response = await http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));
                await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{url}: {(int)response.StatusCode}");
                if (i >= 200) times.Add(watch.Elapsed.TotalMilliseconds); // the first 200 warm up
            }

            times.Sort();
            return times;
        }

        static string P(List<double> t, double q) => t[Math.Min(t.Count - 1, (int)(q * t.Count))].ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        var direct = await Measure(upstream.Urls.First() + "/v1/chat/completions");
        var through = await Measure(gateway.Urls[0] + "/v1/chat/completions");
        Console.WriteLine($"| path | requests | p50 ms | p99 ms |");
        Console.WriteLine($"| --- | --- | --- | --- |");
        Console.WriteLine($"| upstream directly | {requests} | {P(direct, 0.5)} | {P(direct, 0.99)} |");
        Console.WriteLine($"| through the gateway, guards on | {requests} | {P(through, 0.5)} | {P(through, 0.99)} |");
        await upstream.StopAsync();
        Directory.Delete(folder, recursive: true);
        return 0;
    }
}
