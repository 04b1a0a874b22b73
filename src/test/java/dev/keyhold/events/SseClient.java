package dev.keyhold.events;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/** A minimal Server-Sent Events reader for tests: collects the raw lines of one open stream. */
final class SseClient implements AutoCloseable {

    final List<String> lines = new CopyOnWriteArrayList<>();
    final HttpResponse<Stream<String>> response;
    private final Thread reader;

    SseClient(URI uri, Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).header("Accept", "text/event-stream");
        headers.forEach(b::header);
        CompletableFuture<HttpResponse<Stream<String>>> f =
                HttpClient.newHttpClient().sendAsync(b.build(), HttpResponse.BodyHandlers.ofLines());
        try {
            response = f.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("SSE connect failed", e);
        }
        reader = new Thread(
                () -> {
                    try {
                        response.body().forEach(lines::add);
                    } catch (RuntimeException closed) {
                        // stream closed by the test
                    }
                },
                "sse-test-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** The ids of the events received so far, in order. */
    List<Long> ids() {
        List<Long> ids = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("id: ")) {
                ids.add(Long.parseLong(l.substring(4)));
            }
        }
        return ids;
    }

    List<String> data() {
        return lines.stream()
                .filter(l -> l.startsWith("data: "))
                .map(l -> l.substring(6))
                .toList();
    }

    @Override
    public void close() {
        response.body().close();
        reader.interrupt();
    }
}
