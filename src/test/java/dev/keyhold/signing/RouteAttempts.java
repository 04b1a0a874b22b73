package dev.keyhold.signing;

import org.awaitility.Awaitility;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * For tests that need the fast {@link SignRoute} to have answered. An attempt checks its own answers (they must be
 * right whichever way a request went) and is repeated until the route served every request of one attempt. A
 * change recorded for the issuer in the background (the outbox follower catching up with activation's events, the
 * lifecycle sweep running on the test clock) drops the issuer's snapshot, and the next request then goes to the
 * JAX-RS resource, which caches it again: that is by design, so such an attempt is simply made again. Seen in full
 * runs: 3 of 4 and 1 of 4 requests served by the route.
 */
final class RouteAttempts {

    private RouteAttempts() {
    }

    /** Runs {@code attempt} until the route served all {@code requests} of one run of it; returns that run's result. */
    static <T> T untilRouteServes(SignRoute route, int requests, Callable<T> attempt) {
        Object[] last = new Object[1];
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            long before = route.served();
            last[0] = attempt.call();
            return route.served() - before == requests;
        });
        @SuppressWarnings("unchecked")
        T result = (T) last[0];
        return result;
    }
}
