package dev.keyhold.cli;

import picocli.CommandLine.Option;

/** Options every command takes (before or after the command's name). */
public class GlobalOptions {

    @Option(
            names = "--url",
            paramLabel = "URL",
            description = "Keyhold's base URL (env KEYHOLD_URL; default http://localhost:8080)")
    String url;

    @Option(
            names = {"-u", "--user"},
            paramLabel = "NAME",
            description = "user for HTTP Basic (env KEYHOLD_USER)")
    String user;

    @Option(
            names = "--password",
            paramLabel = "SECRET",
            description = "password (env KEYHOLD_PASSWORD; prefer the environment or --password-file)")
    String password;

    @Option(names = "--password-file", paramLabel = "FILE", description = "read the password from FILE")
    String passwordFile;

    @Option(
            names = "--token",
            paramLabel = "JWT",
            description = "bearer token instead of a password (env KEYHOLD_TOKEN)")
    String token;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "config file (env KEYHOLD_CONFIG; default ~/.config/keyhold/config)")
    String config;

    @Option(names = "--json", description = "print the server's JSON instead of text")
    boolean json;
}
