using System.Text;
using Drydock.Provenance.Registry;

namespace Drydock.Provenance.Tests;

/// <summary>Manifests shaped like drydock clean's, for registry tests.</summary>
internal static class Manifests
{
    public static (DatasetManifest Manifest, string Json) Make(string version, string inputSha, string classification = "confidential", string max = "confidential", string project = "support-bot", string source = "data/tickets/**")
    {
        var json = $$"""
            {
              "tool": { "name": "drydock", "version": "0.1.0" },
              "datasetVersion": "sha256:{{version}}",
              "output": { "file": "clean.jsonl", "records": 100, "sha256": "{{version}}" },
              "holdout": null,
              "quarantine": { "file": "q.jsonl", "records": 2, "sha256": "{{new string('c', 64)}}" },
              "ledger": { "file": "ledger.jsonl", "entries": 7, "sha256": "{{new string('d', 64)}}" },
              "inputs": [ { "file": "tickets.jsonl", "format": "openai-chat", "sha256": "{{inputSha}}", "bytes": 1000, "records": 102,
                            "source": { "path": "{{source}}", "classification": "{{classification}}", "trust": "trusted", "owner": "support" } } ],
              "policy": { "hash": "{{new string('e', 64)}}", "project": "{{project}}", "useCase": "support", "maxClassification": "{{max}}" },
              "keep": null,
              "counts": { "dispositions": { "kept": 100, "quarantined": 2 }, "actions": {}, "categories": {}, "types": {} }
            }
            """;
        return (DatasetManifest.Parse("manifest.json", Encoding.UTF8.GetBytes(json)), json);
    }

    public static string Hex(char c) => new(c, 64);
}
