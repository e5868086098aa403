using Drydock.Detection;
using Drydock.SupplyChain.Pinning;
using Drydock.Tests.Shared;

namespace Drydock.SupplyChain.Tests;

public sealed class PinningTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void FindsEveryUnpinnedKind_AndLeavesPinnedOnesAlone()
    {
        _dir.File("train/requirements.txt", """
            torch==2.4.1 --hash=sha256:abc
            transformers>=4.40
            peft
            git+https://github.com/huggingface/trl@main
            git+https://github.com/huggingface/accelerate@0123456789abcdef0123456789abcdef01234567
            # a comment
            """);
        _dir.File("train/pyproject.toml", """
            [project]
            name = "trainer"
            dependencies = ["datasets==2.19.0", "numpy>=1.26"]
            """);
        _dir.File("train/environment.yml", """
            name: train
            dependencies:
              - python=3.11
              - cudatoolkit
              - pip:
                - bitsandbytes==0.43.1
            """);
        _dir.File("web/package.json", """{"dependencies": {"react": "^18.2.0", "zod": "3.23.8", "tool": "github:org/tool#main"}}""");
        _dir.File("eval/Eval.csproj", """<Project><ItemGroup><PackageReference Include="OpenAI" Version="2.*" /><PackageReference Include="Polly" Version="8.4.1" /></ItemGroup></Project>""");
        _dir.File("train/train.py", """
            model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
            tok = AutoTokenizer.from_pretrained("meta-llama/Llama-3.1-8B", revision="0123456789abcdef0123456789abcdef01234567")
            path = hf_hub_download(repo_id="org/adapter", filename="a.safetensors")
            """);
        _dir.File("train/axolotl.yaml", "base_model: mistralai/Mistral-7B-v0.3\nadapter: lora\n");

        var findings = PinningChecker.Check(_dir.Path);
        string Rel(PinningFinding f) => Path.GetRelativePath(_dir.Path, f.File).Replace('\\', '/') + ":" + f.Line;
        var found = findings.Select(Rel).ToHashSet();
        Assert.Equal(
            new HashSet<string>
            {
                "train/requirements.txt:2", "train/requirements.txt:3", "train/requirements.txt:4", "train/pyproject.toml:3", "train/environment.yml:4",
                "web/package.json:1", "eval/Eval.csproj:1", "train/train.py:1", "train/train.py:3", "train/axolotl.yaml:1",
            },
            found);
        Assert.Contains(findings, f => f.Type == "unpinned-vcs" && f.Message.Contains("trl@main", StringComparison.Ordinal));
        Assert.Equal(2, findings.Count(f => f.Type == "unpinned-npm"));
        Assert.All(findings.Where(f => f.Type == "mutable-model-reference"), f => Assert.Equal(Severity.High, f.Severity));
    }

    [Fact]
    public void ALockFile_LowersRanges()
    {
        _dir.File("web/package.json", """{"dependencies": {"react": "^18.2.0"}}""");
        _dir.File("web/package-lock.json", "{}");
        Assert.Equal(Severity.Low, Assert.Single(PinningChecker.Check(_dir.Path)).Severity);
    }
}
