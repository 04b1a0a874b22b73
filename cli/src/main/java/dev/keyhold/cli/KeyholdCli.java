package dev.keyhold.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code keyhold}: Keyhold's command line (docs/cli.md). Exit codes: 0 ok, 1 refused or invalid (the server said no,
 * a check failed), 2 usage, 3 server unreachable, 4 authentication or authorization. Every error is one line on
 * stderr, starting with {@code keyhold: }.
 */
@Command(
        name = "keyhold",
        mixinStandardHelpOptions = true,
        version = "keyhold 0.1.0",
        description = "Keyhold's command line: issuers, keys, rotations, approvals, audit and evidence.",
        subcommands = {
            Commands.Status.class,
            Commands.Issuers.class,
            Commands.IssuerCmd.class,
            Commands.Keys.class,
            Commands.Rotate.class,
            Commands.Revoke.class,
            Commands.Requests.class,
            Commands.Approve.class,
            Commands.Reject.class,
            Commands.AuditCmd.class,
            Commands.EvidenceCmd.class,
            CommandLine.HelpCommand.class
        })
public class KeyholdCli implements Callable<Integer> {

    @Mixin
    GlobalOptions global;

    @Spec
    CommandSpec spec;

    final PrintStream out;
    final PrintStream err;
    final Map<String, String> env;

    KeyholdCli(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    @Override
    public Integer call() {
        throw CliException.usage("a command is needed: keyhold --help lists them");
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        System.exit(run(args, out, err, System.getenv()));
    }

    /** Runs one command line; returns the exit code. For tests and embedding: nothing here calls System.exit. */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        KeyholdCli root = new KeyholdCli(out, err, env);
        CommandLine cl = new CommandLine(root);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setParameterExceptionHandler((e, a) -> {
            String sub = e.getCommandLine().getCommandSpec().qualifiedName();
            err.println("keyhold: " + e.getMessage().replaceAll("\\s+", " ").strip() + " (see: " + sub + " --help)");
            return CliException.USAGE;
        });
        cl.setExecutionExceptionHandler((e, c, p) -> {
            if (e instanceof CliException x) {
                err.println("keyhold: " + x.getMessage().replaceAll("[\\r\\n]+", " "));
                return x.exitCode();
            }
            err.println("keyhold: unexpected error: " + e);
            return CliException.REFUSED;
        });
        return cl.execute(args);
    }

    /** The options of the root merged with those given after the command (the latter win). */
    GlobalOptions effective(GlobalOptions leaf) {
        GlobalOptions g = new GlobalOptions();
        g.url = pick(leaf.url, global.url);
        g.user = pick(leaf.user, global.user);
        g.password = pick(leaf.password, global.password);
        g.passwordFile = pick(leaf.passwordFile, global.passwordFile);
        g.token = pick(leaf.token, global.token);
        g.config = pick(leaf.config, global.config);
        g.json = leaf.json || global.json;
        return g;
    }

    private static String pick(String a, String b) {
        return a != null ? a : b;
    }

    static String pretty(JsonNode n) {
        try {
            return Api.JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
