package dev.keyhold.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.domain.IllegalTransitionException;
import dev.keyhold.domain.KeyState;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class KeyStateTest {

    /** SPEC's diagram, written out independently of KeyState's own table. */
    static final Map<KeyState, Set<KeyState>> SPEC = Map.of(
            KeyState.PENDING, EnumSet.of(KeyState.ACTIVE, KeyState.REVOKED),
            KeyState.ACTIVE, EnumSet.of(KeyState.RETIRED, KeyState.REVOKED),
            KeyState.RETIRED, EnumSet.of(KeyState.REVOKED, KeyState.DESTROYED),
            KeyState.REVOKED, EnumSet.of(KeyState.DESTROYED),
            KeyState.DESTROYED, EnumSet.noneOf(KeyState.class));

    @ParameterizedTest
    @EnumSource(KeyState.class)
    void everyPairFollowsTheSpec(KeyState from) {
        for (KeyState to : KeyState.values()) {
            boolean legal = SPEC.get(from).contains(to);
            assertThat(from.canMoveTo(to)).as(from + " -> " + to).isEqualTo(legal);
            if (legal) {
                from.requireMoveTo(to);
            } else {
                assertThatThrownBy(() -> from.requireMoveTo(to))
                        .isInstanceOf(IllegalTransitionException.class)
                        .hasMessageContaining(from.name())
                        .satisfies(e -> assertThat(((IllegalTransitionException) e).slug())
                                .isEqualTo("illegal-key-transition"));
            }
        }
    }

    @Test
    void refusalsNameTheRule() {
        assertThatThrownBy(() -> KeyState.RETIRED.requireMoveTo(KeyState.ACTIVE))
                .hasMessageContaining("only PENDING keys can be activated");
        assertThatThrownBy(() -> KeyState.PENDING.requireMoveTo(KeyState.DESTROYED))
                .hasMessageContaining("only RETIRED or REVOKED keys can be destroyed");
        assertThatThrownBy(() -> KeyState.DESTROYED.requireMoveTo(KeyState.REVOKED))
                .hasMessageContaining("can be revoked");
    }

    @Test
    void onlyPendingActiveAndRetiredArePublishable() {
        assertThat(EnumSet.allOf(KeyState.class).stream().filter(KeyState::publishable))
                .containsExactlyInAnyOrder(KeyState.PENDING, KeyState.ACTIVE, KeyState.RETIRED);
    }
}
