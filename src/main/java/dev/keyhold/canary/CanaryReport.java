package dev.keyhold.canary;

import java.time.Instant;
import java.util.List;

/**
 * One run of the canaries. {@code error} is set when the run could not forge its tokens at all (fixtures or HSM
 * unavailable); such a run fails too: a self-test that cannot run proves nothing.
 */
public record CanaryReport(Instant at, List<CanaryResult> results, String error) {

    public boolean passed() {
        return error == null && !results.isEmpty() && results.stream().allMatch(CanaryResult::passed);
    }

    public List<String> failed() {
        return results.stream().filter(r -> !r.passed()).map(CanaryResult::name).toList();
    }
}
