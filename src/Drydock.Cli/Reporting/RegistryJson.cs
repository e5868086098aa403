using System.Text.Json;
using Drydock.Provenance.Registry;

namespace Drydock.Cli.Reporting;

/// <summary>Registry records as the JSON reports of dataset list/show and approvals write them.</summary>
internal static class RegistryJson
{
    public static void WriteSummary(Utf8JsonWriter w, DatasetRecord d, ApprovalStatus status)
    {
        w.WriteStartObject();
        WriteFields(w, d, status);
        w.WriteEndObject();
    }

    public static void WriteFields(Utf8JsonWriter w, DatasetRecord d, ApprovalStatus status)
    {
        w.WriteString("id", d.Id);
        w.WriteString("version", "sha256:" + d.Version);
        w.WriteString("name", d.Name);
        w.WriteString("project", d.Project);
        w.WriteString("useCase", d.UseCase);
        w.WriteString("classification", d.Classification);
        w.WriteString("maxClassification", d.MaxClassification);
        w.WriteNumber("records", d.Records);
        w.WriteString("ledgerSha256", d.LedgerSha256);
        w.WriteString("manifestSha256", d.ManifestSha256);
        w.WriteBoolean("signed", d.Envelope is not null);
        JsonFields.WriteStrings(w, "parents", d.Parents);
        w.WriteString("registeredBy", d.RegisteredBy);
        w.WriteString("registeredAt", d.RegisteredAt);
        w.WriteString("status", status.State);
        JsonFields.WriteStrings(w, "statusReasons", status.Reasons);
    }

    public static void WriteApproval(Utf8JsonWriter w, ApprovalRecord a)
    {
        w.WriteStartObject();
        w.WriteString("id", a.Id);
        w.WriteString("subjectKind", a.SubjectKind);
        w.WriteString("subjectId", a.SubjectId);
        w.WriteString("role", a.Role);
        w.WriteString("decision", a.Decision);
        w.WriteString("comment", a.Comment);
        w.WriteString("actor", a.Actor);
        w.WriteString("at", a.At);
        w.WriteEndObject();
    }
}
