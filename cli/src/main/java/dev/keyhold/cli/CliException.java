package dev.keyhold.cli;

/** A failure the command line reports as one line on stderr, with the exit code scripts can test. */
public class CliException extends RuntimeException {

    /** Exit codes: see docs/cli.md. */
    public static final int OK = 0;

    public static final int REFUSED = 1;
    public static final int USAGE = 2;
    public static final int UNREACHABLE = 3;
    public static final int AUTH = 4;

    private final int exitCode;

    public CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }

    public static CliException usage(String message) {
        return new CliException(USAGE, message);
    }

    public static CliException refused(String message) {
        return new CliException(REFUSED, message);
    }
}
