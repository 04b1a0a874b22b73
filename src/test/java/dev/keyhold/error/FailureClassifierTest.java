package dev.keyhold.error;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.hsm.HsmUnavailableException;
import jakarta.persistence.PersistenceException;
import jakarta.ws.rs.core.Response;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one classifier, with both renderers: the same failure gets the same status as problem JSON and as a page. */
class FailureClassifierTest {

    @Test
    void textTheDatabaseCannotStoreIsA400ForBothRenderers() throws Exception {
        for (String state : List.of("22021", "22P05", "22P02")) {
            Throwable wrapped = new PersistenceException(
                    "could not execute statement",
                    new RuntimeException(new SQLException("invalid byte sequence for encoding \"UTF8\": 0x00", state)));
            Failure f = FailureClassifier.classify(wrapped);
            assertThat(f.status()).as(state).isEqualTo(400);

            Response api = ProblemRenderer.render(f, "/v1/issuers/x/suspend");
            assertThat(api.getStatus()).isEqualTo(400);
            assertThat(api.getMediaType().toString()).isEqualTo(Problem.MEDIA_TYPE);
            String json = new ObjectMapper().writeValueAsString(api.getEntity());
            assertThat(json)
                    .contains("\"status\":400", "urn:keyhold:problem:bad-request")
                    .doesNotContain("SQLException", "UTF8");

            PageRenderer.Wording page = PageRenderer.wording(f);
            assertThat(page.detail()).startsWith("Please go back and correct").doesNotContain("SQLException", "0x00");
        }
    }

    @Test
    void applicationRefusalsCarryNoStatusAndAreClassifiedByKind() {
        assertThat(FailureClassifier.classify(ProblemException.notFound("issuer", "x"))
                        .status())
                .isEqualTo(404);
        assertThat(FailureClassifier.classify(ProblemException.conflict("key-not-pending", "no"))
                        .status())
                .isEqualTo(409);
        assertThat(FailureClassifier.classify(ProblemException.conflict("key-not-pending", "no"))
                        .slug())
                .isEqualTo("key-not-pending");
        assertThat(FailureClassifier.classify(ProblemException.forbidden("no")).status())
                .isEqualTo(403);
        assertThat(FailureClassifier.classify(ProblemException.badRequest("no")).status())
                .isEqualTo(400);
        assertThat(FailureClassifier.classify(ProblemException.unavailable("hsm-unavailable", "no"))
                        .status())
                .isEqualTo(503);
        Failure invalid = FailureClassifier.classify(
                new ValidationException(List.of(new ValidationException.FieldError("reason", "required"))));
        assertThat(invalid.status()).isEqualTo(422);
        assertThat(invalid.extensions()).containsKey("errors");
        assertThat(ProblemException.conflict("x", "y")).isInstanceOf(ProblemException.Conflict.class);
        assertThat(ProblemException.notFound("a", "b")).isInstanceOf(ProblemException.NotFound.class);
        // a call site still written against a status keeps its meaning
        assertThat(new ProblemException(409, "x", "X", "y", null).kind()).isEqualTo(ProblemException.Kind.CONFLICT);
    }

    @Test
    void aRateLimitCarriesRetryAfterAndAnHsmOutageIs503() {
        Failure limited = FailureClassifier.classify(new ProblemException(
                ProblemException.Kind.RATE_LIMITED,
                "rate-limited",
                "Too many requests",
                "slow down",
                java.util.Map.of("retryAfter", 3L)));
        assertThat(limited.status()).isEqualTo(429);
        assertThat(ProblemRenderer.render(limited, null).getHeaderString("Retry-After"))
                .isEqualTo("3");

        Failure hsm = FailureClassifier.classify(new RuntimeException(new HsmUnavailableException("p1", "down", null)));
        assertThat(hsm.status()).isEqualTo(503);
        assertThat(ProblemRenderer.render(hsm, null).getHeaderString("Retry-After"))
                .isEqualTo(Problem.RETRY_AFTER_SECONDS);
        assertThat(PageRenderer.wording(hsm).title()).isEqualTo("HSM unavailable");
    }

    @Test
    void anythingUnknownIsA500ThatSaysNothingInternal() {
        Failure f = FailureClassifier.classify(new IllegalStateException("secret detail at dev.keyhold.X"));
        assertThat(f.status()).isEqualTo(500);
        assertThat(f.detail()).doesNotContain("secret", "dev.keyhold");
        assertThat(PageRenderer.wording(f).detail()).doesNotContain("secret");
    }
}
