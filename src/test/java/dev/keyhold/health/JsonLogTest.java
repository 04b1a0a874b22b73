package dev.keyhold.health;

import static dev.keyhold.testsupport.Api.as;
import static dev.keyhold.testsupport.Tokens.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.testsupport.Api;
import dev.keyhold.testsupport.Lifecycle;
import dev.keyhold.testsupport.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.ExtLogRecord;
import org.jboss.logmanager.LogContext;
import org.junit.jupiter.api.Test;

/**
 * With {@code KEYHOLD_LOG_JSON=true} every console line is one JSON object, and a request's lines
 * carry its request id, actor, issuer and kid in {@code mdc}; never the token. The line is formatted by the console
 * handler's own formatter (the one the setting switched on), captured beside it.
 */
@QuarkusTest
@TestProfile(HsmOutageTest.JsonLogs.class)
class JsonLogTest {

    @Inject
    Lifecycle lifecycle;

    @Test
    void aVerdictLineIsJsonWithTheRequestsContextAndNoToken() throws Exception {
        Formatter json =
                consoleFormatter(LogContext.getLogContext().getLogger("").getHandlers());
        assertThat(json)
                .as("the console formatter KEYHOLD_LOG_JSON switches on")
                .isNotNull();
        assertThat(json.getClass().getName()).containsIgnoringCase("json");

        List<String> lines = new CopyOnWriteArrayList<>();
        ExtHandler capture = new ExtHandler() {
            @Override
            protected void doPublish(ExtLogRecord record) {
                if (record.getLoggerName().equals("dev.keyhold.verify.verdicts")) {
                    lines.add(json.format(record));
                }
            }
        };
        org.jboss.logmanager.Logger verdicts = LogContext.getLogContext().getLogger("dev.keyhold.verify.verdicts");
        verdicts.addHandler(capture);
        try {
            String id = Api.createIssuer("json-log");
            String kid = lifecycle.activeKey(id);
            String token = Tokens.sign(id, claims(id));
            as("auditor")
                    .header("X-Request-Id", "json-log-test-1")
                    .body(Map.of("token", token))
                    .post("/v1/verify")
                    .then()
                    .statusCode(200);

            assertThat(lines).hasSize(1);
            String line = lines.get(0);
            assertThat(line)
                    .doesNotContain(token)
                    .doesNotContain(token.substring(token.lastIndexOf('.') + 1))
                    .doesNotContain(Api.PASSWORD);
            JsonNode n = new ObjectMapper().readTree(line);
            assertThat(n.path("level").asText()).isEqualTo("INFO");
            assertThat(n.path("loggerName").asText()).isEqualTo("dev.keyhold.verify.verdicts");
            JsonNode mdc = n.path("mdc");
            assertThat(mdc.path("requestId").asText()).isEqualTo("json-log-test-1");
            assertThat(mdc.path("actor").asText()).isEqualTo("auditor");
            assertThat(mdc.path("issuer").asText()).isEqualTo(id);
            assertThat(mdc.path("kid").asText()).isEqualTo(kid);
        } finally {
            verdicts.removeHandler(capture);
        }
    }

    private static Formatter consoleFormatter(Handler[] handlers) {
        for (Handler h : handlers) {
            if (h.getFormatter() != null
                    && h.getFormatter().getClass().getName().toLowerCase().contains("json")) {
                return h.getFormatter();
            }
            if (h instanceof ExtHandler ext) {
                Formatter f = consoleFormatter(ext.getHandlers());
                if (f != null) {
                    return f;
                }
            }
        }
        return null;
    }
}
