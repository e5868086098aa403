using System.Text.RegularExpressions;
using Drydock.Detection.Engine;
using Drydock.Detection.Validation;

namespace Drydock.Detection.Rules;

/// <summary>
/// Built-in credential rules (category <c>secret</c>). Every rule has a literal prefilter keyword and an
/// anchored, bounded pattern; examples are synthetic values of the documented shape, never real keys.
/// </summary>
internal static partial class SecretRules
{
    // placeholders: false for rules whose validator weighs the whole body (a PEM block, a base64-encoded one): a
    // placeholder word such as "fake" turns up by chance in about one random key body of 16,000 characters in sixty,
    // and a real key must not be passed for it; PemBody and Base64PemBody refuse the placeholder bodies themselves.
    private static Rule Secret(string id, string type, string description, Regex pattern, string[] keywords, string[] examples,
        string[]? counterExamples = null, Severity severity = Severity.Critical, bool caseSensitive = true, int reveal = 0,
        int windowBefore = 8, int windowAfter = 256, double confidence = 0.95, CandidateValidator? validator = null,
        double? minEntropy = null, int priority = 10, string[]? context = null, bool requiresContext = false, bool? inLongToken = null,
        Func<string, int, int, int>? extendEnd = null, bool placeholders = true) =>
        CatalogueRule.Create(Categories.Secret, id, type, description, pattern, keywords, examples, counterExamples ?? [], severity, confidence,
            windowBefore, windowAfter, show: false, validator, caseSensitive, context: context, requiresContext: requiresContext, priority: priority,
            keywordsInLongToken: inLongToken ?? caseSensitive, minEntropy: minEntropy, rejectPlaceholders: placeholders, revealPrefix: reveal, extendEnd: extendEnd);

    private static CandidateValidator GitHubStyleChecksum(double valid, double invalid) =>
        (value, _, _) => Checksums.GitHubTokenChecksum(value) ? valid : invalid;

    public static IEnumerable<Rule> All()
    {
        yield return Secret("DD-SEC-001", "aws-access-key-id", "AWS access key id", AwsAccessKeyId(), ["AKIA", "ASIA", "ABIA", "ACCA"],
            ["aws_access_key_id = AKIAGNSUV3QBWQSDXU6S", "key AKIAGNSUV3QBWQSDXU6S leaked", "hiAKIAGNSUV3QBWQSDXU6Sxx", "9AKIAGNSUV3QBWQSDXU6S9"],
            ["AKIAIOSFODNN7EXAMPLE", "AKIA is a prefix", "XAKIAAKIAGNSUV3QBWQSDXU6S"], reveal: 4);
        yield return Secret("DD-SEC-002", "aws-secret-access-key", "AWS secret access key next to its name", AwsSecretAccessKey(),
            ["ecret_access_key", "ecretaccesskey", "aws_secret", "aws secret", "ecret access key"],
            ["aws_secret_access_key = d0d3mS8gBlKv3azKgaS/m/x+SHuKBD+vok/nPTmZ", "AWS secret access key: \"d0d3mS8gBlKv3azKgaS/m/x+SHuKBD+vok/nPTmZ\""],
            ["aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}"],
            caseSensitive: false, windowBefore: 40, minEntropy: 3.5);
        yield return Secret("DD-SEC-003", "github-pat", "GitHub personal access token (classic)", GitHubPat(), ["ghp_"],
            ["token: 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", "ghp_4Qwb8DwkNhFdnXsiVpzz63FfkCzJr4i0B3Jr"], ["ghp_short", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
            reveal: 4, validator: GitHubStyleChecksum(0.99, 0.6));
        yield return Secret("DD-SEC-004", "github-oauth-token", "GitHub OAuth access token", GitHubOAuth(), ["gho_"],
            ["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"], ["gho_tooShort123"], reveal: 4, validator: GitHubStyleChecksum(0.99, 0.6));
        yield return Secret("DD-SEC-005", "github-user-token", "GitHub user-to-server token", GitHubUser(), ["ghu_"],
            ["ghu_mxgJTeKdNnFRIBXuDL7DxtpYlSXpfK0IYYek"], ["ghu_"], reveal: 4, validator: GitHubStyleChecksum(0.99, 0.6));
        yield return Secret("DD-SEC-006", "github-server-token", "GitHub server-to-server (app installation) token", GitHubServer(), ["ghs_"],
            ["GITHUB_TOKEN=ghs_tHF4vUCsMehGAkWvj7FAc9QeWJKY401ngxw6"], ["ghs_abc"], reveal: 4, validator: GitHubStyleChecksum(0.99, 0.6));
        yield return Secret("DD-SEC-007", "github-refresh-token", "GitHub refresh token", GitHubRefresh(), ["ghr_"],
            ["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"], ["ghr_1234"], reveal: 4, validator: GitHubStyleChecksum(0.99, 0.6));
        yield return Secret("DD-SEC-008", "github-fine-grained-pat", "GitHub fine-grained personal access token", GitHubFineGrained(), ["github_pat_"],
            ["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"], ["github_pat_short"], reveal: 11);
        yield return Secret("DD-SEC-009", "gitlab-pat", "GitLab personal access token", GitLabPat(), ["glpat-"],
            ["CI_TOKEN=glpat-WtGSU8po_799NksnRH9u"], ["glpat-123"], reveal: 6, minEntropy: 3.0);
        yield return Secret("DD-SEC-010", "gitlab-pipeline-trigger-token", "GitLab pipeline trigger token", GitLabTrigger(), ["glptt-"],
            ["glptt-06b40928b5b7a767c76fb008f86bebb2737f6a6f"], ["glptt-zzzz"], reveal: 6);
        yield return Secret("DD-SEC-011", "gitlab-runner-token", "GitLab runner authentication token", GitLabRunner(), ["glrt-"],
            ["glrt-N5N1aE6PwZPf1Qh6yYTW"], ["glrt-abc"], reveal: 5, minEntropy: 3.0);
        yield return Secret("DD-SEC-012", "slack-bot-token", "Slack bot token", SlackBot(), ["xoxb-"],
            ["SLACK_BOT_TOKEN=xoxb-37265167612-220297299752-JJibaZUPgHV7iB3m03nbqnsG"], ["xoxb-not-a-token"], reveal: 5);
        yield return Secret("DD-SEC-013", "slack-user-token", "Slack user or legacy token", SlackUser(), ["xoxp-", "xoxe-"],
            ["xoxp-39548620579-86828288072-902227918058-f3176813e02ea68ef786e4d3cea27d26"], ["xoxp-123"], reveal: 5);
        yield return Secret("DD-SEC-014", "slack-app-token", "Slack app-level token", SlackApp(), ["xapp-"],
            ["xapp-1-ATHJXJQI3OG-6723268656355-2b0aee0ca923732881584d8c4fa2815d2802827283e0ad84173581569969e58b"], ["xapp-1-abc"], reveal: 5);
        yield return Secret("DD-SEC-015", "slack-webhook-url", "Slack incoming webhook URL", SlackWebhook(), ["hooks.slack.com/"],
            ["post to https://hooks.slack.com/services/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 now"], ["https://hooks.slack.com/services/T000/B000/XXXX"], caseSensitive: false, windowBefore: 14, severity: Severity.High);
        yield return Secret("DD-SEC-016", "stripe-secret-key", "Stripe secret or restricted key", StripeSecret(), ["sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_"],
            ["stripe.api_key = \"sk_live_Q1y3GQsMpSscDlkrCaqx9vJupc94tnwl\"", "rk_live_avyfErGPmpGXafq0fjzLczbttOofL9H2"], ["sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "pk_live_ is public"], reveal: 8);
        yield return Secret("DD-SEC-017", "google-api-key", "Google API key", GoogleApiKey(), ["AIza"],
            ["key=AIzatXP-tKsf2rcDkdfrUnW5gcF_Ha6ili8GjHE"], ["AIzaShort"], reveal: 4);
        yield return Secret("DD-SEC-018", "google-oauth-client-secret", "Google OAuth client secret", GoogleOAuthSecret(), ["GOCSPX-"],
            ["client_secret: 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"], ["GOCSPX-short"], reveal: 7);
        yield return Secret("DD-SEC-019", "openai-api-key", "OpenAI API key (with the T3BlbkFJ marker)", OpenAiKey(), ["T3BlbkFJ"],
            ["OPENAI_API_KEY=sk-proj-DXh5Jmtf7EbsDe0G9CryT3BlbkFJn687neLfjVHq8xiM0OGr"], ["sk-T3BlbkFJ"], windowBefore: 230, reveal: 3, priority: 12);
        yield return Secret("DD-SEC-020", "openai-api-key", "OpenAI project, service-account or admin key", OpenAiProjectKey(), ["sk-proj-", "sk-svcacct-", "sk-admin-"],
            ["sk-proj-oUD-_Ydua_5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK_gqv81RKMGHZEM9YpvujA-C5Q52ryFlwRlOEVHzc0X0AWIRh-JUqBlIFXZ53N"], ["sk-proj-abc"], reveal: 8, minEntropy: 4.0);
        yield return Secret("DD-SEC-021", "anthropic-api-key", "Anthropic API key", AnthropicKey(), ["sk-ant-"],
            ["ANTHROPIC_API_KEY=sk-ant-api03-cqe28_ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhcy-1kGD2VD-eR1UYzaLiA-zNyD7CHLn-xC_1hsYgBdsAA"], ["sk-ant-api03-short"], reveal: 7);
        yield return Secret("DD-SEC-022", "azure-storage-account-key", "Azure storage account key in a connection string", AzureStorageKey(), ["countKey=", "AccessKey="],
            ["DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=1BoeXsnmoDkoVKhhXu8Qn8G/qeJWNwEojymz1z9qwrae3SwZ8mS+5GKluvIP0n7PFMAR7SAfg2MgrbmLqxaGog==;EndpointSuffix=core.windows.net"],
            ["AccountKey=<your-key>"], caseSensitive: false, windowAfter: 120, minEntropy: 4.0);
        yield return Secret("DD-SEC-023", "azure-sas-token", "Azure shared access signature", AzureSas(), ["sig="],
            ["https://acme.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&sig=Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIzNDU2Nzg5MGFi%3D"],
            ["https://example.org/?sig=abc"], severity: Severity.High, windowBefore: 2, windowAfter: 140, context: ["sv=", "se=", "sp=", "srt="], requiresContext: true,
            minEntropy: 3.5);
        yield return Secret("DD-SEC-024", "azure-ad-client-secret", "Microsoft Entra ID (Azure AD) client secret", AzureClientSecret(), ["Q~"],
            ["AZURE_CLIENT_SECRET=7rt8Q~aidDn87XG3~q~xbMtEPO6Uk-zYuF0ie9Pu"], ["Q~ alone"], windowBefore: 8, minEntropy: 3.5);
        yield return Secret("DD-SEC-025", "sendgrid-api-key", "SendGrid API key", SendGridKey(), ["SG."],
            ["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"], ["SG.short.key"], reveal: 3);
        yield return Secret("DD-SEC-026", "twilio-api-key", "Twilio API key SID", TwilioKey(), ["SK"],
            ["TWILIO_API_KEY=SKba4168160adb59261ff2d3c425c8d99d"], ["ASK00000000000000000000000000000000", "SKU 12345"], severity: Severity.High, minEntropy: 3.0);
        yield return Secret("DD-SEC-027", "npm-access-token", "npm access token", NpmToken(), ["npm_"],
            ["//registry.npmjs.org/:_authToken=npm_9dtVK4wAAb3XZxPmzUzn8aB5kBh0fzK4xDXk"], ["npm_config_cache"], reveal: 4, validator: GitHubStyleChecksum(0.99, 0.75));
        yield return Secret("DD-SEC-028", "pypi-token", "PyPI upload token", PyPiToken(), ["pypi-AgEIcHlwaS5vcmc"],
            ["password = pypi-AgEIcHlwaS5vcmcqbgsYlVvsSKuvinX_zMqf9OgXluCZz8xBfZuXTptFyfePpX6N1NF2XV54wca_7E56w8Zni"], ["pypi-AgEIcHlwaS5vcmc"], reveal: 5, windowAfter: 300);
        yield return Secret("DD-SEC-029", "dockerhub-pat", "Docker Hub personal access token", DockerHubPat(), ["dckr_pat_"],
            ["docker login -p dckr_pat_qT3Ul4ffqkOkgWrdioyq_KvCiSG"], ["dckr_pat_"], reveal: 9);
        yield return Secret("DD-SEC-030", "huggingface-token", "Hugging Face access token", HuggingFaceToken(), ["hf_"],
            ["HF_TOKEN=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"], ["hf_hub_download(repo_id)", "hf_transfer_enabled_for_this_big_repo_x"], reveal: 3, minEntropy: 3.5);
        yield return Secret("DD-SEC-031", "heroku-api-key", "Heroku platform API key", HerokuKey(), ["HRKU-"],
            ["HRKU-gU5nGYVHWVsUQk4DwgLGNOaeCtL31Ugq_DfcgaTMnTC0MrAU8urbFt5misIZ"], ["HRKU-short"], reveal: 5);
        yield return Secret("DD-SEC-032", "heroku-api-key", "Heroku legacy API key (UUID next to 'heroku')", HerokuLegacyKey(), ["eroku"],
            ["HEROKU_API_KEY=5f0b8a3c-9d1e-4b7a-a2c6-3e8f1d0c7b94"], ["heroku app id 42"], caseSensitive: false, windowAfter: 80,
            confidence: 0.85);
        yield return Secret("DD-SEC-033", "shopify-token", "Shopify access token or shared secret", ShopifyToken(), ["shpat_", "shpca_", "shppa_", "shpss_"],
            ["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"], ["shpat_123"], reveal: 6);
        yield return Secret("DD-SEC-034", "mailgun-api-key", "Mailgun private API key", MailgunKey(), ["key-"],
            ["api: key-de2e5738713a818d8962058765a6ca7c"], ["key-value pairs", "monkey-0123456789abcdef0123456789abcdef"], minEntropy: 3.0, reveal: 4);
        yield return Secret("DD-SEC-035", "jwt", "JSON Web Token", Jwt(), ["eyJ"],
            ["Authorization: Bearer eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTAyOTM4NDc1NiIsICJuYW1lIjogIk9sYSBOb3JkbWFubiIsICJpYXQiOiAxNzE2MjM5MDIyfQ.88ad3DNBYjvsedonuSsddfrfifiUziXnFAAoeelK9mq"], ["eyJhbGciOi is how a JWT starts", "eyJub3QiOiJqd3QifQ.eyJhIjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJl"],
            severity: Severity.High, windowAfter: 12000, confidence: 0.9, validator: (v, _, _) => Checksums.JwtHeader(v) ? 0.9 : 0,
            extendEnd: JwtEnd);
        yield return Secret("DD-SEC-036", "private-key-rsa", "PEM RSA private key", PemKey("RSA "), ["-----BEGIN RSA PRIVATE KEY-----"],
            ["-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAiEll0j5KUDYOMyZX++/cHwalSXm1jVYQiDIgsmLmxQobcMoW4Rt6f3IWUVihA+mb1oH9InzHcdOezPgLfCxYV7fCXwOUyrk6q8WrziE/2LN9xmHvkbB53xGODK5Pe0IvZIpB4u96Uby0bs/AapjzaHTnQ4XhvH7ObEA+LorFDkqfB8csWnakYDciuZhiIZ8tc5NAzJC2\n-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAiEll0j5KUDYOMyZX++/cHwalSXm1jVYQiDIgsmLmxQobcMoW4R\nt6f3IWUVihA+mb1oH9InzHcdOezPgLfCxYV7fCXwOUyrk6q8WrziE/2LN9xmHvkbB5"],
            ["-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PUBLIC KEY-----", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nand the rest is yours to fill in"],
            windowAfter: 16400, extendEnd: OpenPemBodyEnd, placeholders: false, reveal: 0, validator: PemBody, inLongToken: false);
        yield return Secret("DD-SEC-037", "private-key-ec", "PEM EC private key", PemKey("EC "), ["-----BEGIN EC PRIVATE KEY-----"],
            ["-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIiEll0j5KUDYOMyZX++/cHwalSXm1jVYQiDIgsmLmxQobcMoW4Rt6f3IWUVihA+mb1oH9InzHcdOezPgLfCxYV7fCXwOUyrk6q8WrziE/2LN9xmHvkbB53xGODK5Pe0IvZIpB4u96Uby0bs/AapjzaHTnQ4XhvH7ObEA+LorFDkqfB8csWnakYDciuZhiIZ8tc5NAzJC2\n-----END EC PRIVATE KEY-----"], ["-----BEGIN EC PRIVATE KEY----- (redacted)"],
            windowAfter: 16400, extendEnd: OpenPemBodyEnd, placeholders: false, validator: PemBody, inLongToken: false);
        yield return Secret("DD-SEC-038", "private-key-openssh", "OpenSSH private key", PemKey("OPENSSH "), ["-----BEGIN OPENSSH PRIVATE KEY-----"],
            ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAiEll0j5KUDYOMyZX++/cHwalSXm1jVYQiDIgsmLmxQobcMoW4Rt6f3IWUVihA+mb1oH9InzHcdOezPgLfCxYV7fCXwOUyrk6q8WrziE/2LN9xmHvkbB53xGODK5Pe0IvZIpB4u96Uby0bs/AapjzaHTnQ4XhvH7ObEA+LorFDkqfB8csWnakYDciuZhiIZ8tc5NAzJC2\n-----END OPENSSH PRIVATE KEY-----"], ["-----BEGIN OPENSSH PRIVATE KEY-----\n<key>\n-----END OPENSSH PRIVATE KEY-----"],
            windowAfter: 16400, extendEnd: OpenPemBodyEnd, placeholders: false, validator: PemBody, inLongToken: false);
        yield return Secret("DD-SEC-039", "private-key-pgp", "PGP private key block", PgpKey(), ["-----BEGIN PGP PRIVATE KEY BLOCK-----"],
            ["-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBFiEll0j5KUDYOMyZX++/cHwalSXm1jVYQiDIgsmLmxQobcMoW4Rt6f3IWUVihA+mb1oH9InzHcdOezPgLfCxYV7fCXwOUyrk6q8WrziE/2LN9xmHvkbB53xGODK5Pe0IvZIpB4u96Uby0bs/AapjzaHTnQ4XhvH7ObEA+LorFDkqfB8csWnakYDciuZhiIZ8tc5NAzJC2\n-----END PGP PRIVATE KEY BLOCK-----"], ["-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQENBF\n-----END PGP PUBLIC KEY BLOCK-----"],
            windowAfter: 16400, extendEnd: OpenPemBodyEnd, placeholders: false, validator: PemBody, inLongToken: false);
        yield return Secret("DD-SEC-040", "private-key", "PEM PKCS#8, DSA or encrypted private key", PemKeyGeneric(),
            ["-----BEGIN PRIVATE KEY-----", "-----BEGIN ENCRYPTED PRIVATE KEY-----", "-----BEGIN DSA PRIVATE KEY-----"],
            ["-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCiEll0j5KUDYOMyZX++/cHwalSXm1jVYQiDIgsmLmxQobcMoW4Rt6f3IWUVihA+mb1oH9InzHcdOezPgLfCxYV7fCXwOUyrk6q8WrziE/2LN9xmHvkbB53xGODK5Pe0IvZIpB4u96Uby0bs/AapjzaHTnQ4XhvH7ObEA+LorFDkqfB8csWnakYDciuZhiIZ8tc5NAzJC2\n-----END PRIVATE KEY-----"], ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"],
            windowAfter: 16400, extendEnd: OpenPemBodyEnd, placeholders: false, validator: PemBody, inLongToken: false);
        yield return Secret("DD-SEC-041", "database-url-password", "Database or broker URL with an inline password", DatabaseUrl(),
            ["://"],
            ["DATABASE_URL=postgres://app:z26DXO4O33i7rl@db.internal.acme.io:5432/app", "mongodb+srv://svc:z26DXO4O33i7rl@cluster0.mongo.net/prod", "mongodb://svc:k3v@9Lp2!x@cluster0.mongo.net/prod"],
            ["postgres://user:password@localhost/db", "postgres://app:${DB_PASSWORD}@db/app", "mysql://root:<password>@host/db", "postgresql://user:secret@host1:123,user:secret@host2:456/db"],
            windowBefore: 16, windowAfter: 400, validator: UrlPassword, minEntropy: 2.5);
        yield return Secret("DD-SEC-042", "url-credentials", "URL with inline user name and password", UrlCredentials(), ["://"],
            ["git clone https://deploy:z26DXO4O33i7rl@git.acme.io/repo.git"], ["https://user:pass@example.com", "https://a.com/x?b=c@d"],
            windowBefore: 8, windowAfter: 400, validator: UrlPassword, minEntropy: 2.5, severity: Severity.High, priority: 5);
        yield return Secret("DD-SEC-043", "password", "Password assigned in code or configuration", PasswordAssignment(),
            ["sswor", "sswd", "pwd", "ssphrase", "ennwort", "de passe", "ntrase"],
            ["db_password = \"dUS0d7FZTmxLoICfZf\"", "password: dUS0d7FZTmxLoICfZf"],
            ["password = get_password()", "password: ********", "password = os.environ['DB_PASSWORD']", "Reset your password: click the link", "password = password"],
            severity: Severity.High, caseSensitive: false, windowBefore: 2, windowAfter: 160, confidence: 0.75, validator: AssignedValue, minEntropy: 2.8, priority: 1);
        yield return Secret("DD-SEC-044", "generic-api-key", "API key, token or client secret assigned in code or configuration", GenericKeyAssignment(),
            ["ecret", "api_key", "apikey", "api-key", "_token", "-token", "token=", "token =", "token:", "token\"", "token'", "vate_key", "earer ", "icense_key", "icence_key", "icensekey"],
            ["api_key = \"dUS0d7FZTmxLoICfZf\"", "Authorization: Bearer dUS0d7FZTmxLoICfZf", "license_key: 7c2e91f04ab83d56e0f1a9b7c4d2e8f3a6b5c0d9", "jwt_secret: \"q7]Tz;'Lm2{Vx8@Kp4!Rw\""],
            ["api_key = os.getenv(\"API_KEY\")", "client_secret: <CLIENT_SECRET>", "secret = True", "The secret is to stir slowly."],
            severity: Severity.High, caseSensitive: false, windowBefore: 2, windowAfter: 160, confidence: 0.7, validator: AssignedValue, minEntropy: 3.2, priority: 1);
        yield return Secret("DD-SEC-045", "telegram-bot-token", "Telegram bot token", TelegramBotToken(), [":AA"],
            ["bot token 6160534468:AAvWD6qeSPt5Pv74GDqQ7EyIMttFPSuEPyH"], ["12:AAA"], windowBefore: 12, windowAfter: 48);
        yield return Secret("DD-SEC-046", "discord-webhook-url", "Discord webhook URL", DiscordWebhook(), ["iscord"],
            ["https://discord.com/api/webhooks/121362244643114367/ebZ3CL7csGZaF31DDxp63OHm1FZuG296c0xPbX_neGBuzSm6A8cVR06AxYpThGJWZhbj"], ["https://discord.com/api/webhooks/123/abc"], caseSensitive: false, windowBefore: 20, windowAfter: 200, severity: Severity.High);
        yield return Secret("DD-SEC-047", "square-access-token", "Square access token", SquareAccessToken(), ["sq0atp-"],
            ["sq0atp-11THnCMZCY7Bvqiy8CsT07"], ["sq0atp-"], reveal: 7);
        yield return Secret("DD-SEC-048", "square-oauth-secret", "Square OAuth secret", SquareOAuthSecret(), ["sq0csp-"],
            ["sq0csp-Lq8TDIWG2x9aJTFMP9_2kUtMXhkPrSbbAjLGmsDx5St"], ["sq0csp-"], reveal: 7);
        yield return Secret("DD-SEC-049", "digitalocean-token", "DigitalOcean personal, OAuth or refresh token", DigitalOceanToken(), ["dop_v1_", "doo_v1_", "dor_v1_"],
            ["dop_v1_6c5296f62e338d74ff1fe4f7f505aef9ebdd25b001a3ff416d4a3baf69dad819"], ["dop_v1_abc"], reveal: 7);
        yield return Secret("DD-SEC-050", "databricks-token", "Databricks personal access token", DatabricksToken(), ["dapi"],
            ["DATABRICKS_TOKEN=dapi9bfca8b6f3a6a9421cc1c93016f1c426"], ["dapi is a prefix", "dapi0000000000000000000000000000000"], reveal: 4, minEntropy: 3.0);
        yield return Secret("DD-SEC-051", "linear-api-key", "Linear API key", LinearKey(), ["lin_api_"],
            ["lin_api_cQODOWlgQl3cAXg67Pax30iYtJTq3tlAcubBKPL7"], ["lin_api_x"], reveal: 8);
        yield return Secret("DD-SEC-052", "newrelic-user-key", "New Relic user API key", NewRelicKey(), ["NRAK-", "NRAA-", "NRII-", "NRIQ-"],
            ["NRAK-D57CH0Z2EAYJ409GF4NJA1AAHFN"], ["NRAK-123"], reveal: 5);
        yield return Secret("DD-SEC-053", "grafana-service-account-token", "Grafana service account token", GrafanaServiceAccount(), ["glsa_"],
            ["glsa_3hiEbrUKpCUVl7dxXVTS2jUWfsOJTFDQ_8110102c"], ["glsa_abc_def"], reveal: 5);
        yield return Secret("DD-SEC-054", "postman-api-key", "Postman API key", PostmanKey(), ["PMAK-"],
            ["PMAK-995f1abef543b5dfce8a981a-049d7ccc7e90a88d519448fb2fc6791ce6"], ["PMAK-123"], reveal: 5);
        yield return Secret("DD-SEC-055", "doppler-token", "Doppler personal token", DopplerToken(), ["dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."],
            ["DOPPLER_TOKEN=dp.pt.qay38f8weoz7q7u46mmnmflsxwz7jpc5xgx3fjubwr7"], ["dp.pt.short"], reveal: 6);
        yield return Secret("DD-SEC-056", "pulumi-access-token", "Pulumi access token", PulumiToken(), ["pul-"],
            ["PULUMI_ACCESS_TOKEN=pul-0316f688d3e481a65c2011bef2c328a72c5e5b77"], ["pul-123"], reveal: 4);
        yield return Secret("DD-SEC-057", "vault-token", "HashiCorp Vault service or batch token", VaultToken(), ["hvs.", "hvb."],
            ["VAULT_TOKEN=hvs.weGThdgH9hmsOazM4n8PVGXpV9Wv4Esb7yeuCjVr5mXcj5RPD9oUsQChx5s4tI10FtdILQvH_nO69othB9KpGzU3HEEmXL1"], ["hvs.short"], reveal: 4);
        yield return Secret("DD-SEC-058", "age-secret-key", "age encryption secret key", AgeSecretKey(), ["AGE-SECRET-KEY-1"],
            ["AGE-SECRET-KEY-12RJFPU4GUQJTHMZ6D3TGTWTV99L3TDGVNVQY6RK4JL9Q67G30THZ2HQKUY"], ["AGE-SECRET-KEY-1SHORT"], reveal: 15);
        yield return Secret("DD-SEC-059", "alibaba-access-key-id", "Alibaba Cloud AccessKey id", AlibabaKeyId(), ["LTAI"],
            ["LTAIhwTp0136uXT3yKW5ds3g"], ["LTAI is a prefix"], reveal: 4, severity: Severity.High, minEntropy: 3.0);
        yield return Secret("DD-SEC-060", "mailchimp-api-key", "Mailchimp API key", MailchimpKey(), ["-us"],
            ["MAILCHIMP_KEY=fe04072755398003680e7e3b35183ef8-us4"], ["foo-us1"], windowBefore: 36, windowAfter: 8, minEntropy: 3.0);
        yield return Secret("DD-SEC-061", "atlassian-api-token", "Atlassian API token", AtlassianToken(), ["ATATT3"],
            ["ATATT3xFfGF0ppZrDDs7YvcX1eYgURZEQ3PZgPsTF2bUnxiP3zcCr1Y6ffeIIemGpb3EfKoNSvphIk7s4pqL0KJFlK6CXzU6M98NdFQCyXYbTuEPP_IKBLhcuiS4hX4TnCt1RTrzJm8Iq0na0p-Yt1JoW56KTLTYXPa-W4MxMs3WDlQPFPA2bdgG-MN33X7T=1BE0273D"], ["ATATT3short"], reveal: 6, windowAfter: 260);
        yield return Secret("DD-SEC-062", "terraform-cloud-token", "Terraform Cloud / Enterprise API token", TerraformToken(), [".atlasv1."],
            ["token = \"x6z9jm05z2v7fk.atlasv1.xuxe0tGlhP5sSv07G4AOkHs0GnG5mAldOKMgwKOOUcSAaYatTSJa6tz1gLaQbmlFXJK\""], ["x.atlasv1.y"], windowBefore: 16, windowAfter: 90);
        yield return Secret("DD-SEC-063", "grafana-cloud-token", "Grafana Cloud API token", GrafanaCloudToken(), ["glc_"],
            ["glc_eyJvIjoiMTIzNDU2IiwibiI6ImRlcGxveSIsImsiOiJ4WTNrOUxxMnpQNyIsIm0iOnsiciI6InVzIn19"], ["glc_short"], reveal: 4, windowAfter: 420, minEntropy: 3.5);
        yield return Secret("DD-SEC-064", "slack-token", "Slack legacy, refresh or configuration token", SlackLegacy(), ["xoxa-", "xoxb-", "xoxo-", "xoxp-", "xoxr-", "xoxs-", "xoxe-", "xoxe."],
            ["\"bot_token\": \"xoxb-263594206564-FGqddMF8t08v8N7Oq4i57vs1\"", "xoxe-1-My0xLTMxNzcwMjQ0MTcxMy01MTU4MTUyNjkxNzE0LTUxODE4NDI0MDY3MzYtMjA5MGFk"],
            ["xoxb-0000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx", "xoxs-"], reveal: 5, minEntropy: 3.0, priority: 5);
        yield return Secret("DD-SEC-065", "huggingface-token", "Hugging Face organization API token", HuggingFaceOrgToken(), ["api_org_"],
            ["use_auth_token='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'"], ["api_org_name"], reveal: 8, minEntropy: 3.5);
        yield return Secret("DD-SEC-066", "facebook-access-token", "Facebook / Meta Graph API access token", FacebookToken(), ["EAA"],
            ["FACEBOOK_TOKEN=EAACEdEose0cBANqVwYS81VP7Hb1DX8pPd5khxE3pyIgKpaUnArl63XykWZeiNNCiia3anXn9k3ksu9mI4ROnl89Sm995ytbxAk7jqevt0MLaMRTvetw0tESulEE"], ["EAA is a prefix", "EAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
            severity: Severity.High, minEntropy: 4.0, reveal: 3, windowAfter: 420);
        yield return Secret("DD-SEC-067", "azure-devops-pat", "Azure DevOps personal access token (84-character format)", AzureDevOpsPat(), ["AZDO"],
            ["token = '23IcywOgHQTktCPK7D1r1zLjJkRiDu9m1udhpuOnl9XKhUzybqlMJQQJ98BAACAAAAATbLuLAAASAZDOWP7X'"], ["AZDO alone"],
            windowBefore: 80, windowAfter: 8, minEntropy: 3.5);
        yield return Secret("DD-SEC-068", "gitlab-runner-registration-token", "GitLab runner registration token", GitLabRegistration(), ["GR1348941"],
            ["--registration-token \"GR1348941_iAgdMy7a3NhZaa5oNoH\""], ["GR1348941"], reveal: 9);
        yield return Secret("DD-SEC-069", "private-key-base64", "Base64-encoded PEM private key", PemBase64(), ["LS0tLS1CRUdJTi"],
            ["PRIVATE_KEY_B64=" + Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAiEll0j5KUDYOMyZX++/cHwalSXm1jVYQiDIgsmLmxQobcMoW4Rt6f3IWUVihA+mb1oH9InzHcdOezPgLfCxYV7fCXwOUyrk6q8WrziE/2LN9xmHvkbB53xGODK5Pe0IvZIpB4u96Uby0bs/AapjzaHTnQ4XhvH7ObEA+LorFDkqfB8csWnakYDciuZhiIZ8tc5NAzJC2\n-----END RSA PRIVATE KEY-----\n"))],
            ["LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJJakFOQmdrcWhraUc5dzBCQVFFRkFBT0NBUThBTUlJQkNnS0NBUUVBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"],
            windowAfter: 22000, validator: Base64PemBody, placeholders: false);
        yield return Secret("DD-SEC-070", "google-oauth-access-token", "Google OAuth 2.0 access token", GoogleOAuthAccessToken(), ["ya29."],
            ["access_token: 'ya29.a0ZWzwDFrlGXl_z1BVXBt7wRkl8OZfIa2AUk7z7gTqBu4wweocv81k2lsNaWQrZzhB4GZqT8hqt0pmpsLw'"], ["ya29.short"], severity: Severity.High, reveal: 5, minEntropy: 3.5);
        yield return Secret("DD-SEC-071", "newrelic-license-key", "New Relic ingest license key", NewRelicLicenseKey(), ["NRAL"],
            ["license_key: 5d46af783b52901a6ccaccdb251bce79793aNRAL"], ["license_key: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaNRAL", "NRAL"], windowBefore: 44, windowAfter: 8, minEntropy: 3.0);
        yield return Secret("DD-SEC-072", "grafana-api-key", "Grafana API key (legacy base64 format)", GrafanaApiKey(), ["eyJrIjoi"],
            ["GrafanaClient(\"eyJrIjoiIm5XWlRSVHB5c0NXOWY0Q0E5NnFlR3M2UjN1WUVJaTc1IiwgIm4iOiAiZGVwbG95IiwgImlkIjogN30=\")"], ["eyJrIjoi"], reveal: 8, windowAfter: 220, minEntropy: 4.0);
        yield return Secret("DD-SEC-073", "gitlab-token", "GitLab deploy, feed, CI job, OAuth application, agent, incoming-mail or SCIM token", GitLabOtherToken(),
            ["gldt-", "glft-", "glcbt-", "gloas-", "glagent-", "glimt-", "glsoat-", "glffct-"],
            ["GITLAB_DEPLOY_TOKEN=gldt-Xk2pQ9vLm3Rt7wYz1bNc", "agent token glagent-4fHq9ZtW2mXk7LpR3vNb8cYd6sJe1uGa5oTi0yQwLr3Hn8Kd2W"], ["gldt-short", "gloas-", "glagent-Xk2pQ9vLm3Rt7wYz1bNc"], reveal: 5, minEntropy: 3.0);
        yield return Secret("DD-SEC-074", "azure-devops-pat", "Azure DevOps personal access token (52-character format) next to its name", AzureDevOpsLegacyPat(),
            ["devops", "ado_pat", "ado-pat", "adopat", "ado pat", "ado_token", "azdo", "vsts"],
            ["AZURE_DEVOPS_PAT = \"q4xk7mzt2vb6n3hwp5rjd7yc2fgs6l4aeu3kt5xw7qmz2pn6vbhq\"", "ado_pat: q4xk7mzt2vb6n3hwp5rjd7yc2fgs6l4aeu3kt5xw7qmz2pn6vbhq"],
            ["devops team of q4xk", "ado_pat = os.environ[\"ADO_PAT\"]"], caseSensitive: false, windowBefore: 4, windowAfter: 120, minEntropy: 3.5);
        yield return Secret("DD-SEC-075", "discord-bot-token", "Discord bot token near the word Discord", DiscordBotToken(), ["iscord"],
            ["DISCORD_BOT_TOKEN=MTEzNDU2Nzg5MDEyMzQ1Njc4.Gh7kQz.p4Vx9Lm2Tq8Rw3Zk6Yb1Nc5Hd7Fj0Gs2Ka9Ue"], ["discord server MTEz.abc.def"],
            caseSensitive: false, windowBefore: 120, windowAfter: 200, minEntropy: 3.5);
    }

    private static double Base64PemBody(string value, string text, int start)
    {
        var padded = value.Length % 4 == 0 ? value : value[..(value.Length - value.Length % 4)];
        try
        {
            var decoded = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(padded));
            return decoded.Contains("PRIVATE KEY", StringComparison.Ordinal) ? 0.95 : 0;
        }
        catch (FormatException)
        {
            return 0;
        }
    }

    private static double PemBody(string value, string text, int start)
    {
        var firstBreak = value.IndexOf("-----", 11, StringComparison.Ordinal);
        var end = value.LastIndexOf("-----END", StringComparison.Ordinal);
        if (firstBreak < 0) return 0;

        // No END line: a block cut off (a truncated answer) is the key all the same, its body running to the match's end.
        if (end <= firstBreak) end = value.Length;
        var body = value.AsSpan(firstBreak + 5, end - firstBreak - 5);
        var base64 = 0;
        foreach (var c in body)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=') base64++;
        }

        if (body.Contains("...", StringComparison.Ordinal) || body.Contains('<') || body.Contains('*')) return 0;
        return base64 >= 64 ? 0.99 : 0;
    }

    private static readonly HashSet<string> s_placeholderPasswords = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "pass", "passwd", "pwd", "secret", "user", "username", "token", "apikey", "api_key", "none", "null", "true", "false",
    };

    private static double UrlPassword(string value, string text, int start) =>
        s_placeholderPasswords.Contains(value) || value.StartsWith('$') || value.StartsWith('%') || value.StartsWith(':') ? 0 : 0.9;

    // The assigned value must look like data, not code: no calls, no variables, not a plain identifier.
    private static double AssignedValue(string value, string text, int start)
    {
        if (s_placeholderPasswords.Contains(value) || value.StartsWith('$') || value.StartsWith('%') || value.StartsWith('@') ||
            value.StartsWith('#') || value.StartsWith('/') || value.StartsWith("arn:", StringComparison.Ordinal) ||
            value.Contains("password", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        // A quoted value is a literal: brackets inside it are characters of the secret, not code.
        var quoted = start > 0 && text[start - 1] is '"' or '\'' or '`';
        if (!quoted && (value.Contains('{') || value.Contains('(') || value.Contains('[') || value.StartsWith("os.", StringComparison.Ordinal) ||
            value.StartsWith("process.env", StringComparison.Ordinal) || value.StartsWith("self.", StringComparison.Ordinal) ||
            value.StartsWith("this.", StringComparison.Ordinal) || value.StartsWith("settings.", StringComparison.Ordinal) ||
            value.StartsWith("config.", StringComparison.Ordinal)))
        {
            return 0;
        }

        // An unquoted identifier with a colon after it is the label of the next field ("password =\tlicense_key: 7c2e…"), not
        // its value (found by GuardPropertyTests.Redaction_NeverLeavesAFoundValue, seed fUKLN47Z83A1).
        var label = !quoted && value.Length > 1 && value[^1] == ':' ? value[..^1] : value;
        var letters = 0;
        var digits = 0;
        var others = 0;
        foreach (var c in label)
        {
            if (char.IsAsciiLetter(c)) letters++;
            else if (char.IsAsciiDigit(c)) digits++;
            else if (c != '_' && c != '.') others++;
        }

        // snake_case, dotted.names and plain words are identifiers, not secrets.
        if (digits == 0 && others == 0)
        {
            return 0;
        }

        return digits > 0 && letters > 0 ? 0.8 : 0.65;
    }

    // Only an upper-case letter next to it makes it part of a longer code: a key glued to lower-case letters or digits
    // ("hiAKIA…", "…RTxx", "9AKIA…") is still a key.
    [GeneratedRegex("(?<![A-Z])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Z])")]
    private static partial Regex AwsAccessKeyId();

    [GeneratedRegex("""(?i:aws)[A-Za-z_ .\-]{0,20}(?i:secret)[A-Za-z_ .\-]{0,20}["']?[ \t]{0,3}(?::|=|:=|=>)[ \t]{0,3}["']?(?<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])""")]
    private static partial Regex AwsSecretAccessKey();

    [GeneratedRegex("(?<![A-Za-z0-9_])ghp_[A-Za-z0-9]{36}(?![A-Za-z0-9_])")]
    private static partial Regex GitHubPat();

    [GeneratedRegex("(?<![A-Za-z0-9_])gho_[A-Za-z0-9]{36}(?![A-Za-z0-9_])")]
    private static partial Regex GitHubOAuth();

    [GeneratedRegex("(?<![A-Za-z0-9_])ghu_[A-Za-z0-9]{36}(?![A-Za-z0-9_])")]
    private static partial Regex GitHubUser();

    [GeneratedRegex("(?<![A-Za-z0-9_])ghs_[A-Za-z0-9]{36}(?![A-Za-z0-9_])")]
    private static partial Regex GitHubServer();

    [GeneratedRegex("(?<![A-Za-z0-9_])ghr_(?:[A-Za-z0-9]{36}|[A-Za-z0-9]{76})(?![A-Za-z0-9_])")]
    private static partial Regex GitHubRefresh();

    [GeneratedRegex("(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])")]
    private static partial Regex GitHubFineGrained();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])glpat-[A-Za-z0-9_\\-]{20,64}(?![A-Za-z0-9_\\-])")]
    private static partial Regex GitLabPat();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])glptt-[0-9a-f]{40}(?![A-Za-z0-9_\\-])")]
    private static partial Regex GitLabTrigger();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])glrt-[A-Za-z0-9_\\-]{20,64}(?![A-Za-z0-9_\\-])")]
    private static partial Regex GitLabRunner();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,34}(?![A-Za-z0-9])")]
    private static partial Regex SlackBot();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])xox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32,64}(?![A-Za-z0-9])")]
    private static partial Regex SlackUser();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-f0-9]{64}(?![A-Za-z0-9])")]
    private static partial Regex SlackApp();

    [GeneratedRegex("https?://hooks\\.slack\\.com/(?:services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}|(?:workflows|triggers)/T[A-Z0-9]{6,12}/[A-Z0-9]{6,12}/[0-9]{10,20}/[A-Za-z0-9]{20,32})(?![A-Za-z0-9])")]
    private static partial Regex SlackWebhook();

    [GeneratedRegex("(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{20,247}(?![A-Za-z0-9_])")]
    private static partial Regex StripeSecret();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])AIza[0-9A-Za-z_\\-]{35}(?![A-Za-z0-9_\\-])")]
    private static partial Regex GoogleApiKey();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])GOCSPX-[A-Za-z0-9_\\-]{28}(?![A-Za-z0-9_\\-])")]
    private static partial Regex GoogleOAuthSecret();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\\-]{16,200}T3BlbkFJ[A-Za-z0-9_\\-]{16,200}(?![A-Za-z0-9_\\-])")]
    private static partial Regex OpenAiKey();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\\-]{40,250}(?![A-Za-z0-9_\\-])")]
    private static partial Regex OpenAiProjectKey();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])sk-ant-(?:api03|admin01)-[A-Za-z0-9_\\-]{80,120}AA(?![A-Za-z0-9_\\-])")]
    private static partial Regex AnthropicKey();

    [GeneratedRegex("(?i:AccountKey|SharedAccessKey)=(?<v>[A-Za-z0-9+/]{40,100}={0,2})(?![A-Za-z0-9+/=])")]
    private static partial Regex AzureStorageKey();

    [GeneratedRegex("[?&;]sig=(?<v>[A-Za-z0-9%+/]{40,120}(?:%3D|=){0,2})")]
    private static partial Regex AzureSas();

    [GeneratedRegex("(?<![A-Za-z0-9_~.\\-])[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\\-]{31,34}(?![A-Za-z0-9_~.\\-])")]
    private static partial Regex AzureClientSecret();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])SG\\.[A-Za-z0-9_\\-]{22}\\.[A-Za-z0-9_\\-]{43}(?![A-Za-z0-9_\\-])")]
    private static partial Regex SendGridKey();

    [GeneratedRegex("(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])")]
    private static partial Regex TwilioKey();

    [GeneratedRegex("(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])")]
    private static partial Regex NpmToken();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\\-]{50,250}(?![A-Za-z0-9_\\-])")]
    private static partial Regex PyPiToken();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])dckr_pat_[A-Za-z0-9_\\-]{27}(?![A-Za-z0-9_\\-])")]
    private static partial Regex DockerHubPat();

    [GeneratedRegex("(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9_])")]
    private static partial Regex HuggingFaceToken();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])HRKU-[A-Za-z0-9_\\-]{60}(?![A-Za-z0-9_\\-])")]
    private static partial Regex HerokuKey();

    [GeneratedRegex("""(?i:heroku)[A-Za-z0-9_ .\-]{0,20}["']?[ \t]{0,3}(?::|=|:=|=>)[ \t]{0,3}["']?(?<v>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![0-9a-fA-F])""")]
    private static partial Regex HerokuLegacyKey();

    [GeneratedRegex("(?<![A-Za-z0-9_])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9_])")]
    private static partial Regex ShopifyToken();

    [GeneratedRegex("(?<![A-Za-z0-9\\-])key-[0-9a-f]{32}(?![A-Za-z0-9])")]
    private static partial Regex MailgunKey();

    // header.payload. then the signature, or a payload of 8,000 characters or more, which may run past the rule's
    // window: JwtEnd carries the finding over the rest of the token, however long. Atomic groups: a segment is read once.
    [GeneratedRegex("(?<![A-Za-z0-9_\\-])eyJ(?>[A-Za-z0-9_\\-]{8,2000})\\.eyJ(?:(?>[A-Za-z0-9_\\-]{8,8000})\\.|[A-Za-z0-9_\\-]{8000})")]
    private static partial Regex Jwt();

    // The end of a token: the rest of the payload where the match stopped inside it, then the signature (which may be
    // empty, or longer than any bound). One pass over the token, no pattern.
    private static int JwtEnd(string text, int start, int end)
    {
        static bool Base64Url(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';
        var at = end;
        if (text[end - 1] != '.')
        {
            while (at < text.Length && Base64Url(text[at])) at++;
            if (at >= text.Length || text[at] != '.') return at;
            at++;
        }

        while (at < text.Length && Base64Url(text[at])) at++;
        return at;
    }

    // A key block whose END line never came (an answer cut off at its token limit): the BEGIN line, optional headers
    // (Proc-Type:, DEK-Info:, Version:) and a blank line, then every following line that is base64 alone, the first one
    // also on the BEGIN line after spaces. The key is the BEGIN line to the end of that body; PemBody weighs it. A line
    // may be longer than the rule's window (16,400 after BEGIN, widened by up to 256 to a token's edge): the window's
    // end then ends the line here, and OpenPemBodyEnd carries the finding to the body's real end.
    private const string OpenPemBody = @"(?:[ \t]{0,8}\r?\n[A-Za-z][A-Za-z-]{0,39}:[^\r\n]{0,200}){0,8}(?:[ \t]{0,8}\r?\n)?(?:(?:[ \t]{0,8}\r?\n[ \t]{0,8}|[ \t]{1,8})[A-Za-z0-9+/=]{1,17000}[ \t]{0,8}(?![^\r\n])){1,400}";

    // The end of a key block's body. A block with its END line ends there. A block whose END line never came ends
    // where its base64 does, however far past the rule's window that is: the rest of the line the match ended in, then
    // every following line that is base64 alone (spaces around it). One pass over the body, no pattern.
    private static int OpenPemBodyEnd(string text, int start, int end)
    {
        if (text.AsSpan(start, end - start).Contains("-----END", StringComparison.Ordinal)) return end;
        static bool Base64(char c) => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=';
        var at = end;
        while (at < text.Length && Base64(text[at])) at++;
        var last = at;
        while (true)
        {
            var p = at;
            while (p < text.Length && text[p] is ' ' or '\t') p++;
            if (p < text.Length && text[p] == '\r') p++;
            if (p >= text.Length || text[p] != '\n') break;
            p++;
            while (p < text.Length && text[p] is ' ' or '\t') p++;
            var line = p;
            while (p < text.Length && Base64(text[p])) p++;
            if (p == line) break;
            var after = p;
            while (after < text.Length && text[after] is ' ' or '\t') after++;
            if (after < text.Length && text[after] is not ('\r' or '\n')) break;
            last = at = p;
        }

        return last;
    }

    private static Regex PemKey(string kind) => kind switch
    {
        "RSA " => PemRsa(),
        "EC " => PemEc(),
        _ => PemOpenSsh(),
    };

    [GeneratedRegex("-----BEGIN RSA PRIVATE KEY-----(?:[\\s\\S]{20,16000}?-----END RSA PRIVATE KEY-----|" + OpenPemBody + ")")]
    private static partial Regex PemRsa();

    [GeneratedRegex("-----BEGIN EC PRIVATE KEY-----(?:[\\s\\S]{20,16000}?-----END EC PRIVATE KEY-----|" + OpenPemBody + ")")]
    private static partial Regex PemEc();

    [GeneratedRegex("-----BEGIN OPENSSH PRIVATE KEY-----(?:[\\s\\S]{20,16000}?-----END OPENSSH PRIVATE KEY-----|" + OpenPemBody + ")")]
    private static partial Regex PemOpenSsh();

    [GeneratedRegex("-----BEGIN PGP PRIVATE KEY BLOCK-----(?:[\\s\\S]{20,16000}?-----END PGP PRIVATE KEY BLOCK-----|" + OpenPemBody + ")")]
    private static partial Regex PgpKey();

    [GeneratedRegex("-----BEGIN (?:ENCRYPTED |DSA )?PRIVATE KEY-----(?:[\\s\\S]{20,16000}?-----END (?:ENCRYPTED |DSA )?PRIVATE KEY-----|" + OpenPemBody + ")")]
    private static partial Regex PemKeyGeneric();

    [GeneratedRegex("""(?<![A-Za-z0-9+.\-])(?i:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse|cockroachdb)://[^\s:/@'"]{1,64}:(?<v>[^\s/'",]{1,128})@[A-Za-z0-9.\-_]{1,253}""")]
    private static partial Regex DatabaseUrl();

    [GeneratedRegex("""(?i:https?|ftps?)://[^\s:/@'"?#]{1,64}:(?<v>[^\s@/'"?#]{3,128})@[A-Za-z0-9.\-_]{1,253}""")]
    private static partial Regex UrlCredentials();

    [GeneratedRegex("""(?i:password|passwd|pwd|passphrase|kennwort|mot de passe|contraseña)["']?[ \t]{0,3}(?::|=|:=|=>|\bis\b)[ \t]{0,3}["'`]?(?<v>[^\s"'`,;]{6,128})""")]
    private static partial Regex PasswordAssignment();

    [GeneratedRegex("""(?i:secret|api[_\-]?key|[a-z]{0,12}[_\-]?token|client[_\-]?secret|private[_\-]?key|licen[cs]e[_\-]?key)["']?[ \t]{0,3}(?::|=|:=|=>)[ \t]{0,3}(?:"(?<v>[^"\r\n]{12,256})"|'(?<v>[^'\r\n]{12,256})'|["'`]?(?<v>[^\s"'`,;]{12,256}))|(?i:bearer) (?<v>[A-Za-z0-9_\-.~+/]{16,512}={0,2})""")]
    private static partial Regex GenericKeyAssignment();

    [GeneratedRegex("(?<![0-9])[0-9]{8,10}:AA[0-9A-Za-z_\\-]{32,35}(?![A-Za-z0-9_\\-])")]
    private static partial Regex TelegramBotToken();

    [GeneratedRegex("https://(?:ptb\\.|canary\\.)?discord(?:app)?\\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\\-]{60,68}(?![A-Za-z0-9_\\-])")]
    private static partial Regex DiscordWebhook();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])sq0atp-[0-9A-Za-z_\\-]{22}(?![A-Za-z0-9_\\-])")]
    private static partial Regex SquareAccessToken();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])sq0csp-[0-9A-Za-z_\\-]{43}(?![A-Za-z0-9_\\-])")]
    private static partial Regex SquareOAuthSecret();

    [GeneratedRegex("(?<![A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}(?![A-Za-z0-9_])")]
    private static partial Regex DigitalOceanToken();

    [GeneratedRegex("(?<![A-Za-z0-9_])dapi[a-f0-9]{32}(?:-[0-9])?(?![A-Za-z0-9_])")]
    private static partial Regex DatabricksToken();

    [GeneratedRegex("(?<![A-Za-z0-9_])lin_api_[A-Za-z0-9]{40}(?![A-Za-z0-9_])")]
    private static partial Regex LinearKey();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])(?:NRAK-[A-Z0-9]{27}|NRAA-[a-f0-9]{27}|NRII-[A-Za-z0-9_\\-]{32}|NRIQ-[A-Za-z0-9_\\-]{32})(?![A-Za-z0-9_\\-])")]
    private static partial Regex NewRelicKey();

    [GeneratedRegex("(?<![A-Za-z0-9_])glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}(?![A-Za-z0-9_])")]
    private static partial Regex GrafanaServiceAccount();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])PMAK-[a-f0-9]{24}-[a-f0-9]{34}(?![A-Za-z0-9_\\-])")]
    private static partial Regex PostmanKey();

    [GeneratedRegex("(?<![A-Za-z0-9_.])dp\\.(?:pt|st|ct|sa|scim|audit)\\.(?:[a-z0-9_\\-]{1,20}\\.)?[A-Za-z0-9]{40,44}(?![A-Za-z0-9_])")]
    private static partial Regex DopplerToken();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])pul-[a-f0-9]{40}(?![A-Za-z0-9_\\-])")]
    private static partial Regex PulumiToken();

    [GeneratedRegex("(?<![A-Za-z0-9_.])hv[sb]\\.[A-Za-z0-9_\\-]{90,400}(?![A-Za-z0-9_\\-])")]
    private static partial Regex VaultToken();

    [GeneratedRegex("AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}(?![A-Za-z0-9])")]
    private static partial Regex AgeSecretKey();

    [GeneratedRegex("(?<![A-Za-z0-9])LTAI[A-Za-z0-9]{12,20}(?![A-Za-z0-9])")]
    private static partial Regex AlibabaKeyId();

    [GeneratedRegex("(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])")]
    private static partial Regex MailchimpKey();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])ATATT3[A-Za-z0-9_\\-=]{180,220}(?![A-Za-z0-9_\\-=])")]
    private static partial Regex AtlassianToken();

    [GeneratedRegex("(?<![A-Za-z0-9])[A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_\\-=]{60,70}(?![A-Za-z0-9_\\-=])")]
    private static partial Regex TerraformToken();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])xox(?:[abposr]|e(?:\\.xox[bp])?)-[0-9A-Za-z\\-]{10,250}(?![A-Za-z0-9_\\-])")]
    private static partial Regex SlackLegacy();

    [GeneratedRegex("(?<![A-Za-z0-9_])api_org_[A-Za-z]{34}(?![A-Za-z0-9_])")]
    private static partial Regex HuggingFaceOrgToken();

    [GeneratedRegex("(?<![A-Za-z0-9])EAA[A-Za-z0-9]{90,400}(?![A-Za-z0-9])")]
    private static partial Regex FacebookToken();

    [GeneratedRegex("(?<![A-Za-z0-9])[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}(?![A-Za-z0-9])")]
    private static partial Regex AzureDevOpsPat();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])(?:(?:gldt|glft|glsoat|glffct)-[A-Za-z0-9_\\-]{20}|glimt-[A-Za-z0-9_\\-]{25}|glagent-[A-Za-z0-9_\\-]{50,128}|gloas-[A-Za-z0-9_\\-]{64}|glcbt-[A-Za-z0-9]{1,5}_[A-Za-z0-9_\\-]{20})(?![A-Za-z0-9_\\-])")]
    private static partial Regex GitLabOtherToken();

    [GeneratedRegex("""(?i:devops|ado|azdo|vsts)[A-Za-z0-9_ .\-]{0,24}["']?[ \t]{0,3}(?::|=|:=|=>)?[ \t]{0,3}["']?(?<v>[a-z2-7]{52})(?![A-Za-z0-9])""")]
    private static partial Regex AzureDevOpsLegacyPat();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])[MNO][A-Za-z0-9_\\-]{23,27}\\.[A-Za-z0-9_\\-]{6}\\.[A-Za-z0-9_\\-]{27,40}(?![A-Za-z0-9_\\-])")]
    private static partial Regex DiscordBotToken();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])GR1348941[A-Za-z0-9_\\-]{20}(?![A-Za-z0-9_\\-])")]
    private static partial Regex GitLabRegistration();

    [GeneratedRegex("LS0tLS1CRUdJTi[A-Za-z0-9+/]{60,21000}={0,2}")]
    private static partial Regex PemBase64();

    [GeneratedRegex("(?<![A-Za-z0-9_\\-])ya29\\.[0-9A-Za-z_\\-]{30,400}(?![A-Za-z0-9_\\-])")]
    private static partial Regex GoogleOAuthAccessToken();

    [GeneratedRegex("(?<![A-Za-z0-9])(?:eu01xx)?[a-f0-9]{30,36}NRAL(?![A-Za-z0-9])")]
    private static partial Regex NewRelicLicenseKey();

    [GeneratedRegex("(?<![A-Za-z0-9+/])eyJrIjoi[A-Za-z0-9+/]{40,200}={0,2}(?![A-Za-z0-9+/=])")]
    private static partial Regex GrafanaApiKey();

    [GeneratedRegex("(?<![A-Za-z0-9_])glc_[A-Za-z0-9+/]{32,400}={0,2}(?![A-Za-z0-9+/=])")]
    private static partial Regex GrafanaCloudToken();
}
