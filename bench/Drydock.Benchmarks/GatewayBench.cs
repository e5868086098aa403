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

    /// <summary>
    /// The ceiling for any gateway built on ASP.NET Core here: Kestrel (the slim host, no middleware) forwarding each
    /// POST body as bytes to <paramref name="upstreamUrl"/> through one pooled HttpClient and copying the answer back,
    /// with no key, no parsing, no guard and no log. Serves on <paramref name="url"/> until stopped (bench/gateway/wrk.sh).
    /// </summary>
    public static async Task<int> Bare(string url, string upstreamUrl)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var bare = builder.Build();
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        var target = new Uri(upstreamUrl.TrimEnd('/') + "/v1/chat/completions");
        bare.MapPost("/v1/chat/completions", (RequestDelegate)(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body.GetBuffer(), 0, (int)body.Length) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = "application/json";
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }));
        await bare.StartAsync();
        Console.WriteLine($"bare pass-through {bare.Urls.First()} -> {target}");
        await bare.WaitForShutdownAsync(); // until SIGTERM
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

    /// <summary>
    /// Open-loop load at a fixed rate: <paramref name="rate"/> chat requests per second for <paramref name="seconds"/>
    /// to <paramref name="url"/> (key from DRYDOCK_KEY when set). Requests leave on schedule whether or not earlier ones
    /// were answered (no coordinated omission); each is timed from when it left. No spinning, so the generator leaves
    /// the CPUs to the servers. Prints the rate reached and p50/p90/p99/max.
    /// </summary>
    public static async Task<int> Rate(string url, int rate, int seconds)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = Timeout.InfiniteTimeSpan });
        if (Environment.GetEnvironmentVariable("DRYDOCK_KEY") is { Length: > 0 } key) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        const string body = """{"model":"m","max_tokens":200,"messages":[{"role":"system","content":"You are a support assistant."},{"role":"user","content":"When does my order 1182 ship, and how will I know?"}]}""";
        async Task<double> One()
        {
            var sent = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));
            await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{url}: {(int)response.StatusCode}");
            return Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
        }

        async Task<List<double>> Run(int total)
        {
            var clock = Stopwatch.StartNew();
            var pending = new List<Task<double>>(total);
            for (var i = 0; i < total; i++)
            {
                var due = i * 1_000_000L / rate; // microseconds
                var wait = (due / 1000.0) - clock.Elapsed.TotalMilliseconds;
                if (wait >= 1) await Task.Delay(TimeSpan.FromMilliseconds(wait));
                pending.Add(One());
            }

            var times = (await Task.WhenAll(pending)).ToList();
            times.Sort();
            return times;
        }

        await Run(Math.Min(rate * 2, 2000)); // warm-up
        var watch = Stopwatch.StartNew();
        var times = await Run(rate * seconds);
        static string F(double v) => v.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
        string P(double q) => F(times[Math.Min(times.Count - 1, (int)(q * times.Count))]);
        Console.WriteLine($"{url}: {times.Count} requests at {F(times.Count / watch.Elapsed.TotalSeconds)}/s; p50 {P(0.5)} ms, p90 {P(0.9)} ms, p99 {P(0.99)} ms, max {F(times[^1])} ms");
        return 0;
    }

    /// <summary>
    /// Streaming: an upstream that streams <paramref name="tokens"/> five-character tokens (a word and a space), one every
    /// <paramref name="intervalMs"/> ms (a model at 1000/interval tokens/s), read directly and through the gateway
    /// with hold-back windows of 0, 32, 64 (the default) and 256 characters. Prints time to first token, total time, and the output
    /// guard's own cost per chunk (the detector on the held-back text, measured without the network).
    /// </summary>
    public static async Task<int> Streaming(int tokens, int intervalMs)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var upstream = builder.Build();
        upstream.MapPost("/v1/chat/completions", (RequestDelegate)(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.ContentType = "text/event-stream";
            for (var i = 0; i < tokens; i++)
            {
                await context.Response.WriteAsync($$"""data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"tok{{i % 10}} "},"finish_reason":null}]}""" + "\n\n");
                await context.Response.Body.FlushAsync();
                await Task.Delay(intervalMs);
            }

            await context.Response.WriteAsync("""data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""" + "\n\ndata: [DONE]\n\n");
        }));
        await upstream.StartAsync();
        var folder = Path.Combine(Path.GetTempPath(), "drydock-gateway-stream-" + Guid.NewGuid().ToString("N"));
        var keys = ApiKeyStore.Open(folder);
        var (key, _) = keys.Create("bench", "internal", [], null);
        var detector = Detector.Create(BuiltInRules.All, BuiltInRules.Analyzers);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        const string body = """{"model":"m","stream":true,"messages":[{"role":"user","content":"Tell me about my order."}]}""";
        async Task<(double First, double Total)> Read(string url)
        {
            var watch = Stopwatch.StartNew();
            using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") }, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            double first = -1;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (first < 0 && line.Contains("\"content\":\"tok", StringComparison.Ordinal)) first = watch.Elapsed.TotalMilliseconds;
            }

            return (first, watch.Elapsed.TotalMilliseconds);
        }

        static string F(double v) => v.ToString("0", System.Globalization.CultureInfo.InvariantCulture);
        Console.WriteLine($"| path ({tokens} tokens, one per {intervalMs} ms) | time to first token ms | total ms |");
        Console.WriteLine("| --- | --- | --- |");
        var direct = await Read(upstream.Urls.First() + "/v1/chat/completions");
        Console.WriteLine($"| upstream directly | {F(direct.First)} | {F(direct.Total)} |");
        foreach (var window in new[] { 0, 32, 64, 256 })
        {
            var options = new GatewayOptions { Upstream = new Uri(upstream.Urls.First() + "/v1"), StreamWindow = window };
            await using var gateway = await GatewayHost.StartAsync(options, new GatewayServices(keys, detector), "http://127.0.0.1:0");
            await Read(gateway.Urls[0] + "/v1/chat/completions"); // warm-up
            var through = await Read(gateway.Urls[0] + "/v1/chat/completions");
            Console.WriteLine($"| gateway, window {window} | {F(through.First)} | {F(through.Total)} |");
        }

        // The guard's own work per chunk: the detector over the held-back text each time a delta arrives.
        foreach (var window in new[] { 64, 256 })
        {
            var guard = new Drydock.Gateway.Guards.StreamGuard(new Drydock.Gateway.Guards.TextGuard(detector), GuardMode.Redact, window);
            const int chunks = 20_000;
            for (var i = 0; i < 2000; i++) guard.Push("word ");
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < chunks; i++) guard.Push(i % 50 == 0 ? "mail me at jo.smith@example.org " : "word ");
            Console.WriteLine($"output guard, window {window}: {(watch.Elapsed.TotalMilliseconds * 1000 / chunks).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} µs per chunk");
        }

        await upstream.StopAsync();
        Directory.Delete(folder, recursive: true);
        return 0;
    }
}
