package dev.keyhold.config;

import org.eclipse.microprofile.config.spi.ConfigSource;

import java.util.Map;
import java.util.Set;

/**
 * Defaults that depend on the machine Keyhold runs on, below every explicit setting (ordinal 100: system
 * properties, environment variables and application.properties all override them).
 *
 * <p>{@code quarkus.vertx.event-loops-pool-size}: half the CPUs, at least one (Quarkus's own default is twice the
 * CPUs). Keyhold's busy path, signing, runs on its own pool of one thread per CPU ({@code keyhold.signing.workers});
 * the event loops only parse and write HTTP. With fewer of them each wakes for more requests and they contend less
 * with the signing threads for the cores: on 2 CPUs, one event loop instead of four cut the event loops' CPU per
 * token by about a third (docs/benchmarks.md, "Signing throughput").
 */
public class RuntimeDefaults implements ConfigSource {

    static final String EVENT_LOOPS = "quarkus.vertx.event-loops-pool-size";

    private final Map<String, String> values;

    public RuntimeDefaults() {
        this(Runtime.getRuntime().availableProcessors());
    }

    RuntimeDefaults(int cpus) {
        this.values = Map.of(EVENT_LOOPS, Integer.toString(eventLoops(cpus)));
    }

    static int eventLoops(int cpus) {
        return Math.max(1, cpus / 2);
    }

    @Override
    public Set<String> getPropertyNames() {
        return values.keySet();
    }

    @Override
    public String getValue(String name) {
        return values.get(name);
    }

    @Override
    public String getName() {
        return "keyhold-runtime-defaults";
    }

    @Override
    public int getOrdinal() {
        return 100;
    }
}
