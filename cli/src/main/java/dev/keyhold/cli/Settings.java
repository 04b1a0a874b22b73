package dev.keyhold.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Where the server and the credentials come from, first found wins: command-line flags, the environment
 * ({@code KEYHOLD_URL}, {@code KEYHOLD_USER}, {@code KEYHOLD_PASSWORD}, {@code KEYHOLD_TOKEN}, {@code KEYHOLD_SSH_KEY}),
 * then the config file ({@code --config}, {@code $KEYHOLD_CONFIG}, else {@code $XDG_CONFIG_HOME/keyhold/config} or
 * {@code ~/.config/keyhold/config}): {@code key = value} lines with the keys {@code url}, {@code user},
 * {@code password}, {@code token}, {@code ssh-key}.
 */
public record Settings(String url, String user, String password, String token, String sshKey, Path configFile) {

    public static final String DEFAULT_URL = "http://localhost:8080";

    static Settings resolve(GlobalOptions flags, Map<String, String> env) {
        Path file = configPath(flags.config, env);
        Properties p = new Properties();
        if (file != null && Files.isRegularFile(file)) {
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException | IllegalArgumentException e) {
                throw CliException.usage("cannot read config file " + file + ": " + e.getMessage());
            }
        } else if (flags.config != null) {
            throw CliException.usage("config file " + flags.config + " does not exist");
        }
        String password = first(flags.password, env.get("KEYHOLD_PASSWORD"), p.getProperty("password"));
        if (flags.passwordFile != null) {
            try {
                password = Files.readString(Path.of(flags.passwordFile), StandardCharsets.UTF_8)
                        .strip();
            } catch (IOException e) {
                throw CliException.usage("cannot read password file " + flags.passwordFile + ": " + e.getMessage());
            }
        }
        String url = first(flags.url, env.get("KEYHOLD_URL"), p.getProperty("url"), DEFAULT_URL);
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        return new Settings(
                url,
                first(flags.user, env.get("KEYHOLD_USER"), p.getProperty("user")),
                password,
                first(flags.token, env.get("KEYHOLD_TOKEN"), p.getProperty("token")),
                first(env.get("KEYHOLD_SSH_KEY"), p.getProperty("ssh-key")),
                file);
    }

    static Path configPath(String flag, Map<String, String> env) {
        if (flag != null) {
            return Path.of(flag);
        }
        if (env.get("KEYHOLD_CONFIG") != null) {
            return Path.of(env.get("KEYHOLD_CONFIG"));
        }
        String xdg = env.get("XDG_CONFIG_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "keyhold", "config");
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        return home == null ? null : Path.of(home, ".config", "keyhold", "config");
    }

    private static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v.strip();
            }
        }
        return null;
    }
}
