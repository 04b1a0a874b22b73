package dev.keyhold.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ActivationStateTest {

    /** The README's diagram, written out independently of ActivationState's own table. */
    static final Map<ActivationState, Set<ActivationState>> README = Map.of(
            ActivationState.OPEN,
                    EnumSet.of(
                            ActivationState.APPROVED,
                            ActivationState.REJECTED,
                            ActivationState.EXPIRED,
                            ActivationState.CANCELLED),
            ActivationState.APPROVED, EnumSet.of(ActivationState.EXECUTED, ActivationState.CANCELLED),
            ActivationState.REJECTED, EnumSet.noneOf(ActivationState.class),
            ActivationState.EXPIRED, EnumSet.noneOf(ActivationState.class),
            ActivationState.EXECUTED, EnumSet.noneOf(ActivationState.class),
            ActivationState.CANCELLED, EnumSet.noneOf(ActivationState.class));

    @ParameterizedTest
    @EnumSource(ActivationState.class)
    void everyPairFollowsTheDiagram(ActivationState from) {
        for (ActivationState to : ActivationState.values()) {
            boolean legal = README.get(from).contains(to);
            assertThat(from.canMoveTo(to)).as(from + " -> " + to).isEqualTo(legal);
            if (legal) {
                from.requireMoveTo(to);
            } else {
                assertThatThrownBy(() -> from.requireMoveTo(to))
                        .as(from + " -> " + to)
                        .isInstanceOf(IllegalTransitionException.class)
                        .hasMessageContaining(from.name())
                        .satisfies(e -> assertThat(((IllegalTransitionException) e).slug())
                                .isEqualTo("illegal-request-transition"));
            }
        }
    }

    @Test
    void liveMeansOpenOrApproved() {
        assertThat(EnumSet.allOf(ActivationState.class).stream().filter(ActivationState::live))
                .containsExactlyInAnyOrder(ActivationState.OPEN, ActivationState.APPROVED);
    }

    @Test
    void refusalsNameTheRule() {
        assertThatThrownBy(() -> ActivationState.EXPIRED.requireMoveTo(ActivationState.APPROVED))
                .hasMessageContaining("only OPEN requests can become APPROVED");
        assertThatThrownBy(() -> ActivationState.OPEN.requireMoveTo(ActivationState.EXECUTED))
                .hasMessageContaining("only APPROVED requests can be carried out");
        assertThatThrownBy(() -> ActivationState.EXECUTED.requireMoveTo(ActivationState.CANCELLED))
                .hasMessageContaining("only OPEN or APPROVED requests can be cancelled");
    }
}
