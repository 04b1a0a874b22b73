package dev.keyhold.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Refusals made below JAX-RS (before a resource is chosen) are problem documents too. Sent over a raw socket, so
 * nothing in a client library tidies the request up first.
 *
 * <p>Not covered, because Quarkus 3.33 gives no hook for them: a request line the HTTP decoder cannot parse, a URI
 * or header block beyond the decoder's own limits (far above Keyhold's), and a request target that is not a valid
 * URI. Vert.x and Quarkus answer those with a bare 400/414/431 before any handler of Keyhold's runs.
 */
@QuarkusTest
class HttpLayerRefusalTest {

    @TestHTTPResource("/")
    URL base;

    @Test
    void oversizedHeadersAre431Problems() throws IOException {
        String answer = send("GET /v1/events HTTP/1.1\r\nHost: x\r\nX-Big: " + "x".repeat(30_000) + "\r\n\r\n");
        assertProblem(answer, 431);
    }

    @Test
    void tooLongUrisAre414Problems() throws IOException {
        assertProblem(send("GET /v1/events?x=" + "y".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414);
    }

    private static void assertProblem(String answer, int status) {
        assertThat(answer).as(answer).startsWith("HTTP/1.1 " + status + " ");
        String head = answer.substring(0, answer.indexOf("\r\n\r\n")).toLowerCase();
        assertThat(head).as(answer).contains("content-type: application/problem+json");
        String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
        assertThat(body)
                .as(answer)
                .contains("\"status\":" + status, "\"type\":\"urn:keyhold:problem:", "\"title\":", "\"detail\":");
    }

    /** Writes the request and reads until the server closes the connection (or sends a whole answer). */
    private String send(String request) throws IOException {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (IOException e) {
                // the server may answer and close before the whole request is written; read what it said
            }
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    got.write(buf, 0, n);
                    if (complete(got.toString(StandardCharsets.ISO_8859_1))) {
                        break;
                    }
                }
            } catch (SocketTimeoutException | java.net.SocketException e) {
                // a reset after the answer: keep what arrived
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static boolean complete(String answer) {
        int end = answer.indexOf("\r\n\r\n");
        if (end < 0) {
            return false;
        }
        for (String line : answer.substring(0, end).split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                return answer.length() - end - 4
                        >= Integer.parseInt(line.substring(15).trim());
            }
        }
        return false;
    }
}
