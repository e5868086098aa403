using System.Diagnostics;
using Drydock.Detection;
using Drydock.Gateway.Monitoring;

namespace Drydock.Bench;

/// <summary>
/// The cost of the gateway's signal keeping per request: <see cref="SignalRecorder"/> fed N requests as the gateway
/// feeds it (a chat prompt from one of 40 templates, an answer for the refusal judge, an input finding on one in ten,
/// an extraction score, 200 keys), the timer's flushes to disk included; the time per request, single thread, after a
/// warm-up. Compared with the gateway's own CPU time per request in docs/monitoring.md.
/// </summary>
internal static class MonitorBench
{
    public static int Signals(int requests)
    {
        var folder = Path.Combine(Path.GetTempPath(), "drydock-signals-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var recorder = new SignalRecorder(folder, 30, new MonitorSettings { FlushSeconds = 1 }, 0.5, new byte[32]);
            var random = new Random(7);
            var prompts = Enumerable.Range(0, 1000).Select(i => $"Template {i % 40} opening words for the support assistant: customer {random.Next(100000)} asks about order {random.Next(100000)} and its delivery date, please answer briefly").ToArray();
            var answers = Enumerable.Range(0, 100).Select(i => i % 20 == 0 ? "I'm sorry, but I can't help with that request." : $"Your order {i} ships on Monday; the tracking number follows by email once the parcel leaves the warehouse.").ToArray();
            var finding = new List<Finding> { new("DD-PII-001", "pii", "email", Severity.Medium, 0, 5, 0.9, "e***@***") };
            var keys = Enumerable.Range(0, 200).Select(i => $"ddk_k{i:000}").ToArray();
            void Run(int n)
            {
                for (var i = 0; i < n; i++)
                {
                    var prompt = prompts[i % prompts.Length];
                    recorder.Record(new SignalSample("helpdesk", "internal", keys[i % keys.Length], 12.5 + (i % 50), 180, false, i % 10 == 0 ? finding : [], false, [], false, false, answers[i % answers.Length], i % 7 == 0 ? 0.2 : 0, prompt, prompt.Length));
                }
            }

            Run(requests / 10);
            var clock = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            Run(requests);
            recorder.Flush();
            var elapsed = clock.Elapsed;
            var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Console.WriteLine($"signal keeping: {requests} requests in {elapsed.TotalMilliseconds:0} ms wall, {used.TotalMilliseconds:0} ms CPU: {elapsed.TotalMicroseconds / requests:0.00} µs wall, {used.TotalMicroseconds / requests:0.00} µs CPU per request");
            return 0;
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
