package dev.keyhold.testsupport;

import com.sun.net.httpserver.HttpServer;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * A real headless Chromium driven through its WebDriver ({@code /usr/bin/chromedriver}; Selenium's own driver
 * download is not used, test machines may have no internet). {@code scripts/ensure-chromium.sh}, run by the build
 * before the tests, installs both on a fresh machine.
 *
 * <p>{@link #openPage(String)} serves a page from a small HTTP server of its own on another port, so the page's
 * origin differs from Keyhold's and the browser applies its cross-origin rules exactly as for a real web app.
 */
public final class Browser implements AutoCloseable {

    public static final String CHROMIUM = firstExisting(List.of("/usr/bin/chromium", "/usr/bin/chromium-browser"));
    public static final String CHROMEDRIVER =
            firstExisting(List.of("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"));
    public static final List<String> FLAGS = List.of(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run");

    private final ChromeDriverService service;
    private final ChromeDriver driver;
    private final Path profile;
    private HttpServer pages;

    private Browser(ChromeDriverService service, ChromeDriver driver, Path profile) {
        this.service = service;
        this.driver = driver;
        this.profile = profile;
    }

    /** Starts a headless Chromium with a throw-away profile. */
    public static Browser start() {
        try {
            Path profile = Files.createTempDirectory("keyhold-chromium");
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(new File(CHROMEDRIVER))
                    .usingAnyFreePort()
                    .build();
            ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM);
            options.addArguments(FLAGS);
            options.addArguments("--user-data-dir=" + profile);
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
            return new Browser(service, driver, profile);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start Chromium", e);
        }
    }

    public WebDriver driver() {
        return driver;
    }

    /**
     * Serves {@code html} at {@code http://127.0.0.1:<own port>/} and opens it; returns the page's origin. Keyhold's
     * tests reach Keyhold at {@code localhost}, a different origin (host and port) from this page.
     */
    public String openPage(String html) {
        try {
            if (pages == null) {
                pages = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
                pages.start();
            } else {
                pages.removeContext("/");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot serve the test page", e);
        }
        byte[] body = html.getBytes(StandardCharsets.UTF_8);
        pages.createContext("/", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        String origin = "http://127.0.0.1:" + pages.getAddress().getPort();
        driver.get(origin + "/");
        return origin;
    }

    /**
     * Runs {@code script} in the page as an async function body: it ends by calling {@code done(value)}
     * ({@code arguments[arguments.length - 1]} in WebDriver terms, bound to {@code done} here).
     */
    public Object runAsync(String script, Object... args) {
        String wrapped = "const done = arguments[arguments.length - 1];\n" + script;
        return ((JavascriptExecutor) driver).executeAsyncScript(wrapped, args);
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            if (pages != null) {
                pages.stop(0);
            }
            deleteQuietly(profile);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // a temp directory left behind is harmless
        }
    }

    private static String firstExisting(List<String> paths) {
        return paths.stream().filter(p -> new File(p).canExecute()).findFirst().orElse(paths.get(0));
    }
}
