package dev.keyhold.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketsTest {

    private static final long S = 1_000_000_000L;

    @Test
    void burstOfOneSecondThenTheRate() {
        TokenBuckets b = new TokenBuckets(4);
        for (int i = 0; i < 4; i++) {
            assertThat(b.tryTake("x", 0)).isZero();
        }
        assertThat(b.tryTake("x", 0)).isEqualTo(1);
        assertThat(b.tryTake("y", 0)).as("buckets are per name").isZero();
        assertThat(b.tryTake("x", S / 4)).isZero();
        assertThat(b.tryTake("x", S / 4)).isEqualTo(1);
        // an idle bucket refills to its capacity, not beyond
        for (int i = 0; i < 4; i++) {
            assertThat(b.tryTake("x", 100 * S)).isZero();
        }
        assertThat(b.tryTake("x", 100 * S)).isEqualTo(1);
    }

    @Test
    void slowRatesAskForLongerWaits() {
        TokenBuckets b = new TokenBuckets(0.1);
        assertThat(b.tryTake("x", 0)).isZero();
        assertThat(b.tryTake("x", 0)).isEqualTo(10);
        assertThat(b.tryTake("x", 9 * S)).isEqualTo(1);
        assertThat(b.tryTake("x", 10 * S)).isZero();
    }

    @Test
    void zeroMeansUnlimitedAndTimeGoingBackDoesNotRefill() {
        TokenBuckets off = new TokenBuckets(0);
        for (int i = 0; i < 10_000; i++) {
            assertThat(off.tryTake("x", 0)).isZero();
        }
        TokenBuckets b = new TokenBuckets(1);
        assertThat(b.tryTake("x", 10 * S)).isZero();
        assertThat(b.tryTake("x", 5 * S)).isEqualTo(1);
    }
}
