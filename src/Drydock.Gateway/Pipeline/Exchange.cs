using System.Text.Json.Nodes;
using Drydock.Gateway.Keys;
using Drydock.Gateway.Operations;
using Drydock.Gateway.State;
using Microsoft.AspNetCore.Http;

namespace Drydock.Gateway.Pipeline;

/// <summary>
/// One completion request as it goes through the stages: each stage fills in what it established (the key and tier,
/// the request, the route, the admission, the prompt) for the stages after it, and its line of the request log.
/// </summary>
internal sealed class Exchange(HttpContext context, bool chat, JsonObject audit)
{
    public HttpContext Context { get; } = context;

    /// <summary>True for <c>/v1/chat/completions</c>, false for <c>/v1/completions</c>.</summary>
    public bool Chat { get; } = chat;

    /// <summary>The request's line of the request log.</summary>
    public JsonObject Audit { get; } = audit;

    public ApiKey Key { get; set; } = null!;

    public Tier Tier { get; set; } = null!;

    public JsonObject Request { get; set; } = null!;

    /// <summary>The model the client asked for.</summary>
    public string Model { get; set; } = "";

    public Route Route { get; set; }

    public bool Stream { get; set; }

    public Admission Admission { get; set; }

    /// <summary>True once the request went to the model server.</summary>
    public bool Forwarded { get; set; }

    /// <summary>The regurgitation tripwire's index for the model version served, when the tier checks answers against it.</summary>
    public Guards.RegurgitationIndex? Tripwire { get; set; }

    /// <summary>The tokens the answer used, once known (the admission's reservation is settled to it).</summary>
    public long? TokensUsed { get; set; }

    /// <summary>The prompt proper (message contents, or the prompt), for the extraction monitor and the token estimate.</summary>
    public string Prompt { get; set; } = "";

    /// <summary>The model string as the request log keeps it: as sent when nothing was found in it, else as the text policy says.</summary>
    public string LoggedModel { get; set; } = "";

    /// <summary>What the input guard found, and whether it blocked the request (for the signal log).</summary>
    public IReadOnlyList<Detection.Finding>? InputFindings { get; set; }

    public bool InputBlocked { get; set; }

    /// <summary>The answer as the output guard saw it, once there is one (for the signal log).</summary>
    public Guards.GuardedAnswer? Answer { get; set; }

    /// <summary>The key's extraction score at this request.</summary>
    public double Abuse { get; set; }

    /// <summary>What the input guard checked (the first part of the x-drydock-guard header).</summary>
    public string InputChecked { get; set; } = InputNotReached;

    /// <summary>What <see cref="InputChecked"/> says of a request refused before the input guard (not read as text).</summary>
    public const string InputNotReached = "input=not-reached";
}
