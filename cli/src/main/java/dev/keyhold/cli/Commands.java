package dev.keyhold.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyhold.tools.VerifyAudit;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The commands; each prints text, or the server's JSON with {@code --json}. See docs/cli.md. */
final class Commands {

    private Commands() {}

    /** What every command shares: its options merged with the root's, the settings, the API, the output. */
    abstract static class Base implements Callable<Integer> {
        @Mixin
        GlobalOptions opts;

        @Spec
        CommandSpec spec;

        GlobalOptions g;
        Settings settings;
        Api api;
        PrintStream out;
        Map<String, String> env;

        @Override
        public Integer call() {
            KeyholdCli root = (KeyholdCli) spec.root().userObject();
            g = root.effective(opts);
            env = root.env;
            out = root.out;
            settings = Settings.resolve(g, env);
            api = new Api(settings);
            return run();
        }

        abstract int run();

        boolean json() {
            return g.json;
        }

        void print(JsonNode n) {
            out.println(KeyholdCli.pretty(n));
        }
    }

    /** A command that only groups others. */
    abstract static class Group implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            throw CliException.usage(spec.name() + " needs a subcommand: "
                    + String.join(", ", spec.subcommands().keySet()) + " (see: " + spec.qualifiedName() + " --help)");
        }
    }

    // ---------------------------------------------------------------------------------------------- status

    @Command(
            name = "status",
            description = "Health of the Keyhold instance (and, with credentials, issuers at a glance).")
    static class Status extends Base {
        @Override
        int run() {
            Api.Raw health = api.getRaw("/q/health", false);
            JsonNode h;
            try {
                h = Api.JSON.readTree(health.body());
            } catch (IOException e) {
                throw CliException.refused(health.status() + " from /q/health, not a health document");
            }
            if (h == null || !h.has("status")) {
                throw CliException.refused(health.status() + " from /q/health, not a health document");
            }
            JsonNode issuers = null;
            if (settings.user() != null || settings.token() != null) {
                issuers = api.get("/v1/issuers");
            }
            boolean up = "UP".equals(h.path("status").asText());
            if (json()) {
                ObjectNode o = Api.JSON.createObjectNode();
                o.put("url", settings.url());
                o.set("health", h);
                if (issuers != null) {
                    o.set("issuers", issuers);
                }
                print(o);
            } else {
                out.println(
                        "Keyhold at " + settings.url() + ": " + h.path("status").asText());
                for (JsonNode c : h.path("checks")) {
                    out.printf(
                            "  %-28s %s%n",
                            c.path("name").asText(), c.path("status").asText());
                }
                if (issuers != null) {
                    int suspended = 0;
                    int overdue = 0;
                    int pending = 0;
                    for (JsonNode i : issuers) {
                        suspended += "SUSPENDED".equals(i.path("status").asText()) ? 1 : 0;
                        overdue += i.path("overdue").asBoolean() ? 1 : 0;
                        pending += i.path("awaitingApproval").size() > 0 ? 1 : 0;
                    }
                    out.printf(
                            "issuers: %d (%d suspended, %d rotation overdue, %d with a key awaiting approval)%n",
                            issuers.size(), suspended, overdue, pending);
                }
            }
            return up ? CliException.OK : CliException.REFUSED;
        }
    }

    // ---------------------------------------------------------------------------------------------- issuers

    @Command(name = "issuers", description = "List issuers: status, ACTIVE key, next rotation.")
    static class Issuers extends Base {
        @Override
        int run() {
            JsonNode list = api.get("/v1/issuers");
            if (json()) {
                print(list);
                return 0;
            }
            Table t = new Table("ISSUER", "STATUS", "ACTIVE KID", "NEXT ROTATION", "OVERDUE", "AWAITING APPROVAL");
            for (JsonNode i : list) {
                t.row(
                        i.path("id").asText(),
                        i.path("status").asText(),
                        shortKid(i.path("activeKid").asText(null)),
                        when(i.path("nextRotationDue").asText(null)),
                        i.path("overdue").asBoolean() ? "YES" : "no",
                        String.valueOf(i.path("awaitingApproval").size()));
            }
            t.print(out);
            return 0;
        }
    }

    @Command(
            name = "issuer",
            description = "One issuer: show, create, suspend, resume.",
            subcommands = {IssuerShow.class, IssuerCreate.class, IssuerSuspend.class, IssuerResume.class})
    static class IssuerCmd extends Group {}

    @Command(name = "show", description = "Show an issuer's policy and state.")
    static class IssuerShow extends Base {
        @Parameters(index = "0", paramLabel = "ISSUER")
        String id;

        @Override
        int run() {
            JsonNode i = api.get("/v1/issuers/" + Api.seg(id));
            if (json()) {
                print(i);
                return 0;
            }
            printIssuer(out, i);
            return 0;
        }
    }

    static void printIssuer(PrintStream out, JsonNode i) {
        out.println("issuer        " + i.path("id").asText() + "  ("
                + i.path("status").asText() + ")");
        out.println("issuerUri     " + i.path("issuerUri").asText());
        out.println("partition     " + i.path("partition").asText() + "   algorithm "
                + i.path("algorithm").asText());
        out.println("audiences     " + join(i.path("audiences")));
        out.println("custodians    " + join(i.path("custodians")) + "   approvals required: "
                + i.path("approvalsRequired").asInt());
        out.println("signers       " + join(i.path("signers")));
        out.println("timing        rotationPeriod " + i.path("rotationPeriod").asText() + ", publishLead "
                + i.path("publishLead").asText() + ", tokenTtl "
                + i.path("tokenTtl").asText() + ", activeDeadline "
                + i.path("activeDeadline").asText() + ", destroyGrace "
                + i.path("destroyGrace").asText()
                + ", approvalTtl " + i.path("approvalTtl").asText());
        out.println("active key    " + i.path("activeKid").asText("none"));
        out.println("next rotation " + when(i.path("nextRotationDue").asText(null))
                + (i.path("overdue").asBoolean() ? "  OVERDUE" : ""));
        out.println(
                "awaiting      " + (i.path("awaitingApproval").isEmpty() ? "none" : join(i.path("awaitingApproval"))));
    }

    @Command(name = "create", description = "Register an issuer (admin), from --file and/or flags (flags win).")
    static class IssuerCreate extends Base {
        @Option(names = "--file", paramLabel = "FILE", description = "the issuer as JSON (POST /v1/issuers body)")
        String file;

        @Option(names = "--id", paramLabel = "ID")
        String id;

        @Option(names = "--issuer-uri", paramLabel = "URI", description = "the exact iss claim")
        String issuerUri;

        @Option(names = "--partition", paramLabel = "NAME")
        String partition;

        @Option(names = "--algorithm", paramLabel = "ALG", description = "ES256, ES384, RS256, PS256")
        String algorithm;

        @Option(names = "--audience", paramLabel = "AUD", description = "repeat for several")
        List<String> audiences;

        @Option(names = "--custodian", paramLabel = "NAME", description = "repeat for several")
        List<String> custodians;

        @Option(names = "--approvals", paramLabel = "M", description = "approvals required")
        Integer approvals;

        @Option(names = "--signer", paramLabel = "NAME", description = "repeat for several")
        List<String> signers;

        @Option(names = "--rotation-period", paramLabel = "ISO-8601")
        String rotationPeriod;

        @Option(names = "--publish-lead", paramLabel = "ISO-8601")
        String publishLead;

        @Option(names = "--token-ttl", paramLabel = "ISO-8601")
        String tokenTtl;

        @Option(names = "--active-deadline", paramLabel = "ISO-8601")
        String activeDeadline;

        @Option(names = "--destroy-grace", paramLabel = "ISO-8601")
        String destroyGrace;

        @Option(names = "--approval-ttl", paramLabel = "ISO-8601")
        String approvalTtl;

        @Override
        int run() {
            ObjectNode body;
            if (file != null) {
                try {
                    JsonNode n = Api.JSON.readTree(Files.readAllBytes(Path.of(file)));
                    if (!(n instanceof ObjectNode o)) {
                        throw CliException.usage(file + " must hold one JSON object (the issuer)");
                    }
                    body = o;
                } catch (IOException e) {
                    throw CliException.usage("cannot read " + file + ": " + e.getMessage());
                }
            } else {
                body = Api.JSON.createObjectNode();
            }
            put(body, "id", id);
            put(body, "issuerUri", issuerUri);
            put(body, "partition", partition);
            put(body, "algorithm", algorithm);
            put(body, "audiences", audiences);
            put(body, "custodians", custodians);
            put(body, "approvalsRequired", approvals);
            put(body, "signers", signers);
            put(body, "rotationPeriod", rotationPeriod);
            put(body, "publishLead", publishLead);
            put(body, "tokenTtl", tokenTtl);
            put(body, "activeDeadline", activeDeadline);
            put(body, "destroyGrace", destroyGrace);
            put(body, "approvalTtl", approvalTtl);
            if (!body.has("id")) {
                throw CliException.usage("an issuer needs an id: --id or \"id\" in --file");
            }
            JsonNode i = api.post("/v1/issuers", body);
            if (json()) {
                print(i);
            } else {
                out.println("created issuer " + i.path("id").asText());
                printIssuer(out, i);
            }
            return 0;
        }

        private static void put(ObjectNode o, String k, Object v) {
            if (v != null) {
                o.set(k, Api.JSON.valueToTree(v));
            }
        }
    }

    @Command(name = "suspend", description = "Pull an issuer's kill switch: signing stops at once (admin, custodian).")
    static class IssuerSuspend extends Base {
        @Parameters(index = "0", paramLabel = "ISSUER")
        String id;

        @Option(
                names = "--reason",
                required = true,
                paramLabel = "TEXT",
                description = "why (recorded in the audit trail)")
        String reason;

        @Override
        int run() {
            JsonNode i = api.post("/v1/issuers/" + Api.seg(id) + "/suspend", Api.object("reason", reason));
            if (json()) {
                print(i);
            } else {
                out.println("issuer " + i.path("id").asText() + " is "
                        + i.path("status").asText() + ": signing refused until resumed");
            }
            return 0;
        }
    }

    @Command(name = "resume", description = "Ask to lift the kill switch: opens a request that needs M-of-N approval.")
    static class IssuerResume extends Base {
        @Parameters(index = "0", paramLabel = "ISSUER")
        String id;

        @Option(names = "--reason", paramLabel = "TEXT")
        String reason;

        @Override
        int run() {
            JsonNode r = api.post("/v1/issuers/" + Api.seg(id) + "/resume", Api.object("reason", reason));
            if (json()) {
                print(r);
            } else {
                out.println("resume request " + r.path("id").asText() + " "
                        + r.path("state").asText() + ": needs "
                        + r.path("approvalsRequired").asInt() + " approvals (keyhold approve "
                        + r.path("id").asText() + ")");
            }
            return 0;
        }
    }

    // ---------------------------------------------------------------------------------------------- keys

    @Command(name = "keys", description = "An issuer's keys (or one key with --kid).")
    static class Keys extends Base {
        @Parameters(index = "0", arity = "0..1", paramLabel = "ISSUER")
        String issuer;

        @Option(names = "--kid", paramLabel = "KID", description = "show one key")
        String kid;

        @Override
        int run() {
            if ((issuer == null) == (kid == null)) {
                throw CliException.usage("give an ISSUER or --kid KID (see: keyhold keys --help)");
            }
            if (kid != null) {
                JsonNode k = api.get("/v1/keys/" + Api.seg(kid));
                if (json()) {
                    print(k);
                    return 0;
                }
                k.fields().forEachRemaining(e -> {
                    if (!e.getValue().isNull() && !e.getKey().equals("publicJwk")) {
                        out.printf(
                                "%-20s %s%n",
                                e.getKey(),
                                e.getValue().isTextual() ? e.getValue().asText() : e.getValue());
                    }
                });
                return 0;
            }
            JsonNode list = api.get("/v1/issuers/" + Api.seg(issuer) + "/keys");
            if (json()) {
                print(list);
                return 0;
            }
            Table t = new Table("KID", "STATE", "CREATED", "ACTIVATED", "NOT AFTER", "RETIRED/REVOKED");
            for (JsonNode k : list) {
                String end = k.path("revokedAt").isNull() || k.path("revokedAt").isMissingNode()
                        ? k.path("retiredAt").asText("")
                        : k.path("revokedAt").asText("") + " ("
                                + k.path("revocationReason").asText("") + ")";
                t.row(
                        k.path("kid").asText(),
                        k.path("state").asText(),
                        k.path("createdAt").asText(""),
                        k.path("activatedAt").asText(""),
                        k.path("notAfter").asText(""),
                        end.equals("null") ? "" : end);
            }
            t.print(out);
            return 0;
        }
    }

    @Command(
            name = "rotate",
            description = "Generate the issuer's next key and open its activation request (scheduler, admin).")
    static class Rotate extends Base {
        @Parameters(index = "0", paramLabel = "ISSUER")
        String issuer;

        @Option(names = "--reason", paramLabel = "TEXT")
        String reason;

        @Override
        int run() {
            JsonNode k = api.post("/v1/issuers/" + Api.seg(issuer) + "/rotations", Api.object("reason", reason));
            if (json()) {
                print(k);
            } else {
                out.println(
                        "key " + k.path("kid").asText() + " " + k.path("state").asText() + " (activatable at "
                                + k.path("activatableAt").asText() + ")");
                if (!k.path("activationRequestId").isNull() && k.has("activationRequestId")) {
                    out.println("activation request "
                            + k.path("activationRequestId").asText() + ": custodians approve with: keyhold approve "
                            + k.path("activationRequestId").asText());
                }
            }
            return 0;
        }
    }

    @Command(
            name = "revoke",
            description = "Revoke a key at once: out of the JWKS, never signs again (custodian, admin).")
    static class Revoke extends Base {
        @Parameters(index = "0", paramLabel = "KID")
        String kid;

        @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "e.g. compromise, superseded")
        String reason;

        @Override
        int run() {
            JsonNode k = api.post("/v1/keys/" + Api.seg(kid) + "/revoke", Api.object("reason", reason));
            if (json()) {
                print(k);
            } else {
                out.println(
                        "key " + k.path("kid").asText() + " " + k.path("state").asText() + " ("
                                + k.path("revocationReason").asText() + ")");
            }
            return 0;
        }
    }

    // ---------------------------------------------------------------------------------------------- requests

    @Command(name = "requests", description = "Activation requests (default: OPEN), with what each one would approve.")
    static class Requests extends Base {
        @Option(names = "--issuer", paramLabel = "ISSUER")
        String issuer;

        @Option(
                names = "--state",
                paramLabel = "STATE",
                defaultValue = "OPEN",
                description = "OPEN (default), APPROVED, REJECTED, EXPIRED, EXECUTED, CANCELLED, or ALL")
        String state;

        @Option(names = "--limit", paramLabel = "N")
        Integer limit;

        @Override
        int run() {
            Map<String, String> q = new LinkedHashMap<>();
            q.put("state", "ALL".equalsIgnoreCase(state) ? null : state);
            q.put("issuer", issuer);
            q.put("limit", limit == null ? null : limit.toString());
            JsonNode list = api.get("/v1/activations" + Api.query(q));
            if (json()) {
                print(list);
                return 0;
            }
            if (list.isEmpty()) {
                out.println("no " + ("ALL".equalsIgnoreCase(state) ? "" : state + " ") + "activation requests"
                        + (issuer == null ? "" : " for issuer " + issuer));
                return 0;
            }
            for (JsonNode r : list) {
                describeRequest(out, r, api);
                out.println();
            }
            return 0;
        }
    }

    static void describeRequest(PrintStream out, JsonNode r, Api api) {
        String due = r.path("due").isNull() || r.path("due").isMissingNode()
                ? ""
                : " (due: " + r.path("due").asText() + ")";
        out.println(r.path("id").asText() + "  " + r.path("kind").asText() + "  issuer "
                + r.path("issuerId").asText() + "  " + r.path("state").asText() + due);
        out.println("  what:       " + what(r, api));
        out.println("  requested:  by " + r.path("requester").asText() + " at "
                + r.path("createdAt").asText()
                + (r.path("reason").isTextual()
                        ? ", reason: " + r.path("reason").asText()
                        : ""));
        out.println("  approvals:  " + r.path("approvals").asInt() + " of "
                + r.path("approvalsRequired").asInt() + "   expires "
                + when(r.path("expiresAt").asText(null)));
        for (JsonNode d : r.path("decisions")) {
            out.println("  decision:   " + d.path("custodian").asText() + " "
                    + d.path("decision").asText()
                    + (d.path("comment").isTextual() ? " \"" + d.path("comment").asText() + "\"" : "") + " at "
                    + d.path("decidedAt").asText());
        }
    }

    private static String what(JsonNode r, Api api) {
        String kind = r.path("kind").asText();
        if ("KEY_ACTIVATION".equals(kind) && r.path("kid").isTextual()) {
            String kid = r.path("kid").asText();
            try {
                JsonNode k = api.get("/v1/keys/" + Api.seg(kid));
                return "activate key " + kid + " (" + k.path("algorithm").asText() + ", partition "
                        + k.path("partition").asText() + ", created "
                        + k.path("createdAt").asText() + ", activatable at "
                        + k.path("activatableAt").asText() + ")";
            } catch (CliException e) {
                return "activate key " + kid;
            }
        }
        JsonNode proposed = r.path("proposed");
        String suffix = proposed.isMissingNode() || proposed.isNull() ? "" : ": " + proposed;
        return switch (kind) {
            case "ISSUER_RESUME" -> "resume the suspended issuer (signing starts again)" + suffix;
            case "POLICY_CHANGE" -> "change the issuer's policy" + suffix;
            case "TRUST_ROLLBACK" -> "roll the trust bundle back" + suffix;
            default -> kind.toLowerCase().replace('_', ' ') + suffix;
        };
    }

    @Command(
            name = "approve",
            description = "Approve a request: fetch its statement, sign it with your SSH key (or agent), post it.")
    static class Approve extends Base {
        @Parameters(index = "0", paramLabel = "REQUEST")
        String request;

        @Option(
                names = {"-k", "--key"},
                paramLabel = "FILE",
                description = "SSH private key, or a .pub whose key the agent "
                        + "holds (env KEYHOLD_SSH_KEY, config ssh-key)")
        String key;

        @Option(
                names = {"-m", "--comment"},
                paramLabel = "TEXT")
        String comment;

        @Option(
                names = "--show",
                description = "print the statement that would be signed, and stop (no signature, nothing posted)")
        boolean show;

        @Override
        int run() {
            String keyFile = key != null ? key : settings.sshKey();
            if (show) {
                byte[] statement = api.getBytes("/v1/activations/" + Api.seg(request) + "/statement");
                try {
                    print(Api.JSON.readTree(statement));
                } catch (IOException e) {
                    throw CliException.refused(
                            "the statement of request " + request + " is not JSON: " + e.getMessage());
                }
                return 0;
            }
            if (keyFile == null) {
                throw CliException.usage(
                        "approve needs your SSH key: --key FILE (or KEYHOLD_SSH_KEY, or ssh-key in the config file)");
            }
            String base = "/v1/activations/" + Api.seg(request);
            byte[] statement = api.getBytes(base + "/statement");
            JsonNode s;
            try {
                s = Api.JSON.readTree(statement);
            } catch (IOException e) {
                throw CliException.refused("the statement of request " + request + " is not JSON: " + e.getMessage());
            }
            if (s == null || !"keyhold.approval.v1".equals(s.path("type").asText())) {
                throw CliException.refused(
                        "the statement of request " + request + " is not a keyhold.approval.v1 statement");
            }
            if (!request.equals(s.path("request").asText())) {
                throw CliException.refused("the statement names request "
                        + s.path("request").asText() + ", not " + request + ": not signed");
            }
            String signature = SshSigner.sign(statement, keyFile, env);
            ObjectNode body = Api.JSON.createObjectNode();
            body.put("decision", "approve");
            if (comment != null) {
                body.put("comment", comment);
            }
            body.set("signature", Api.object("format", "sshsig", "value", signature));
            JsonNode r = api.post(base + "/decisions", body);
            if (json()) {
                print(r);
            } else {
                out.println("signed and approved: " + s.path("kind").asText() + " of issuer "
                        + s.path("issuer").asText() + ", subject " + s.path("subject") + " (policy version "
                        + s.path("policyVersion").asText() + ")");
                out.println("request " + r.path("id").asText() + " "
                        + r.path("state").asText() + ": " + r.path("approvals").asInt() + " of "
                        + r.path("approvalsRequired").asInt() + " approvals");
            }
            return 0;
        }
    }

    @Command(name = "reject", description = "Reject a request (one rejection ends it; no signature needed).")
    static class Reject extends Base {
        @Parameters(index = "0", paramLabel = "REQUEST")
        String request;

        @Option(
                names = {"-m", "--comment"},
                paramLabel = "TEXT",
                required = true,
                description = "why")
        String comment;

        @Override
        int run() {
            JsonNode r = api.post(
                    "/v1/activations/" + Api.seg(request) + "/decisions",
                    Api.object("decision", "reject", "comment", comment));
            if (json()) {
                print(r);
            } else {
                out.println("request " + r.path("id").asText() + " "
                        + r.path("state").asText());
            }
            return 0;
        }
    }

    // ---------------------------------------------------------------------------------------------- audit

    @Command(
            name = "audit",
            description = "The audit trail: verify (server side or a file), export.",
            subcommands = {AuditVerify.class, AuditExport.class})
    static class AuditCmd extends Group {}

    @Command(name = "verify", description = "Verify the audit chain on the server, or an export FILE offline (--file).")
    static class AuditVerify extends Base {
        @Option(names = "--file", paramLabel = "EXPORT", description = "an audit or ledger export to check offline")
        String file;

        @Option(
                names = "--key",
                paramLabel = "THUMBPRINT",
                description = "pin the audit key (repeatable; offline only)")
        List<String> pins;

        @Override
        int run() {
            if (file != null) {
                return offline(readExport(file), file, pins, out, json());
            }
            JsonNode v = api.get("/v1/audit/verify");
            if (json()) {
                print(v);
            } else if (v.path("ok").asBoolean()) {
                out.println("OK: audit chain intact, " + v.path("records").asLong() + " records, "
                        + v.path("checkpoints").asInt() + " checkpoints");
            } else {
                out.println("FAILED: " + v.path("reason").asText()
                        + (v.path("firstBrokenSeq").isNumber()
                                ? " (first broken record: seq "
                                        + v.path("firstBrokenSeq").asLong() + ")"
                                : ""));
            }
            return v.path("ok").asBoolean() ? 0 : 1;
        }
    }

    @Command(
            name = "export",
            description = "Export the audit trail (records, checkpoints, audit key) and optionally check it offline.")
    static class AuditExport extends Base {
        @Option(names = "--from", paramLabel = "INSTANT")
        String from;

        @Option(names = "--to", paramLabel = "INSTANT")
        String to;

        @Option(
                names = {"-o", "--output"},
                paramLabel = "FILE",
                description = "write the export here (default: stdout unless --verify)")
        String output;

        @Option(names = "--verify", description = "check the export offline, without trusting the server")
        boolean verify;

        @Option(names = "--key", paramLabel = "THUMBPRINT", description = "pin the audit key (repeatable)")
        List<String> pins;

        @Override
        int run() {
            Map<String, String> q = new LinkedHashMap<>();
            q.put("from", from);
            q.put("to", to);
            byte[] doc = api.getBytes("/v1/audit/export" + Api.query(q));
            if (output != null) {
                try {
                    Files.write(Path.of(output), doc);
                } catch (IOException e) {
                    throw CliException.usage("cannot write " + output + ": " + e.getMessage());
                }
            } else if (!verify) {
                out.println(new String(doc, StandardCharsets.UTF_8));
                return 0;
            }
            if (!verify) {
                out.println("wrote " + output);
                return 0;
            }
            JsonNode n;
            try {
                n = Api.JSON.readTree(doc);
            } catch (IOException e) {
                throw CliException.refused("the export is not JSON: " + e.getMessage());
            }
            return offline(n, output == null ? "the export" : output, pins, out, json());
        }
    }

    static JsonNode readExport(String file) {
        try {
            return Api.JSON.readTree(Files.readAllBytes(Path.of(file)));
        } catch (IOException e) {
            throw CliException.usage("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** The service's own offline verifier (dev.keyhold.tools.VerifyAudit) over an audit or ledger export. */
    static int offline(JsonNode doc, String name, List<String> pins, PrintStream out, boolean json) {
        Set<String> pinned = pins == null ? Set.of() : new LinkedHashSet<>(pins);
        String format = doc == null ? null : doc.path("format").asText(null);
        VerifyAudit.Report r;
        if (VerifyAudit.AUDIT_FORMAT.equals(format)) {
            r = VerifyAudit.verifyAudit(doc, pinned);
        } else if (VerifyAudit.LEDGER_FORMAT.equals(format)) {
            r = VerifyAudit.verifyLedger(doc, pinned);
        } else {
            throw CliException.refused(name + " is not a Keyhold export (format " + format + ")");
        }
        if (json) {
            ObjectNode o = Api.JSON.createObjectNode();
            o.put("ok", r.ok());
            o.set("failures", Api.JSON.valueToTree(r.failures()));
            o.set("notes", Api.JSON.valueToTree(r.notes()));
            out.println(KeyholdCli.pretty(o));
        } else {
            r.notes().forEach(n -> out.println("  " + n));
            if (r.ok()) {
                out.println("OK: " + name + " is intact (" + doc.path("records").size() + " records, "
                        + doc.path("checkpoints").size() + " checkpoints, checked offline)");
            } else {
                out.println("FAILED: " + r.failures().size() + " problem(s) in " + name);
                r.failures().forEach(f -> out.println("  " + f));
            }
        }
        return r.ok() ? 0 : 1;
    }

    // ---------------------------------------------------------------------------------------------- evidence

    @Command(
            name = "evidence",
            description = "Forensics: did Keyhold issue these tokens?",
            subcommands = {EvidenceCheck.class})
    static class EvidenceCmd extends Group {}

    @Command(
            name = "check",
            description = "Ask the issuance ledger about the tokens in TOKEN_FILE (one per line, or a JSON array). "
                    + "Exit 0 when Keyhold issued every one, 1 otherwise.")
    static class EvidenceCheck extends Base {
        @Parameters(index = "0", paramLabel = "TOKEN_FILE", description = "'-' reads standard input")
        String file;

        @Override
        int run() {
            List<String> tokens = readTokens(file);
            if (tokens.isEmpty()) {
                throw CliException.usage(file + " holds no tokens");
            }
            ArrayNode all = Api.JSON.createArrayNode();
            for (int from = 0; from < tokens.size(); from += 1000) {
                List<String> chunk = tokens.subList(from, Math.min(tokens.size(), from + 1000));
                JsonNode r = api.post("/v1/evidence/tokens", Map.of("tokens", chunk));
                for (JsonNode f : r.path("results")) {
                    ObjectNode o = f.deepCopy();
                    o.put("index", f.path("index").asInt() + from);
                    all.add(o);
                }
            }
            boolean allIssued = true;
            for (JsonNode f : all) {
                allIssued &= f.path("issued").asBoolean();
            }
            if (json()) {
                print(Api.JSON.createObjectNode().set("results", all));
            } else {
                Table t = new Table("#", "JUDGEMENT", "ISSUER", "KID", "JTI", "SHA-256");
                for (JsonNode f : all) {
                    t.row(
                            String.valueOf(f.path("index").asInt() + 1),
                            f.path("judgement").asText(),
                            f.path("issuer").asText(""),
                            shortKid(f.path("kid").asText(null)),
                            f.path("jti").asText(""),
                            f.path("sha256")
                                    .asText("")
                                    .substring(
                                            0,
                                            Math.min(
                                                    16,
                                                    f.path("sha256").asText("").length())));
                }
                t.print(out);
                long forged = 0;
                for (JsonNode f : all) {
                    forged += "forged".equals(f.path("judgement").asText()) ? 1 : 0;
                }
                out.println(
                        allIssued
                                ? "all " + all.size() + " tokens were issued by Keyhold"
                                : forged > 0
                                        ? forged
                                                + " token(s) verify under a Keyhold key but were never issued: treat the key as compromised"
                                        : "not every token was issued by Keyhold");
            }
            return allIssued ? 0 : 1;
        }

        private List<String> readTokens(String f) {
            String text;
            try {
                text = "-".equals(f)
                        ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                        : Files.readString(Path.of(f), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw CliException.usage("cannot read " + f + ": " + e.getMessage());
            }
            List<String> out = new ArrayList<>();
            String trimmed = text.strip();
            if (trimmed.startsWith("[")) {
                try {
                    for (JsonNode n : Api.JSON.readTree(trimmed)) {
                        out.add(n.asText());
                    }
                } catch (IOException e) {
                    throw CliException.usage(f + " starts like a JSON array but is not one: " + e.getMessage());
                }
                return out;
            }
            trimmed.lines()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .forEach(out::add);
            return out;
        }
    }

    // ---------------------------------------------------------------------------------------------- text helpers

    static String shortKid(String kid) {
        return kid == null || kid.equals("null") ? "-" : kid;
    }

    static String join(JsonNode array) {
        List<String> s = new ArrayList<>();
        array.forEach(n -> s.add(n.asText()));
        return String.join(", ", s);
    }

    /** An instant with how far it is from now ("in 2d 3h", "5m ago"). */
    static String when(String iso) {
        if (iso == null || iso.isBlank() || iso.equals("null")) {
            return "-";
        }
        try {
            Duration d = Duration.between(Instant.now(), Instant.parse(iso));
            String rel = human(d.abs());
            return iso + (d.isNegative() ? " (" + rel + " ago)" : " (in " + rel + ")");
        } catch (DateTimeParseException e) {
            return iso;
        }
    }

    static String human(Duration d) {
        long s = d.getSeconds();
        if (s >= 86400) {
            return s / 86400 + "d " + (s % 86400) / 3600 + "h";
        }
        if (s >= 3600) {
            return s / 3600 + "h " + (s % 3600) / 60 + "m";
        }
        if (s >= 60) {
            return s / 60 + "m";
        }
        return s + "s";
    }

    /** Left-aligned columns. */
    static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        Table(String... header) {
            rows.add(header);
        }

        void row(String... cells) {
            rows.add(cells);
        }

        void print(PrintStream out) {
            int[] w = new int[rows.get(0).length];
            for (String[] r : rows) {
                for (int i = 0; i < r.length; i++) {
                    w[i] = Math.max(w[i], r[i] == null ? 0 : r[i].length());
                }
            }
            for (String[] r : rows) {
                StringBuilder s = new StringBuilder();
                for (int i = 0; i < r.length; i++) {
                    String c = r[i] == null ? "" : r[i];
                    s.append(c);
                    if (i < r.length - 1) {
                        s.append(" ".repeat(w[i] - c.length() + 2));
                    }
                }
                out.println(s.toString().stripTrailing());
            }
        }
    }
}
