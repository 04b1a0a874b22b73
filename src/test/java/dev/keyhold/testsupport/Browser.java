package dev.keyhold.testsupport;

import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * A real headless Chromium driven through Debian's {@code /usr/bin/chromedriver} (installed by
 * {@code scripts/ensure-chromium.sh}): Selenium is given the driver and the browser binary, so it never tries to
 * download either. One browser is one person's session (its own profile, its own cookies).
 */
public final class Browser {

    public static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    private static final String DRIVER = "/usr/bin/chromedriver";

    private Browser() {
    }

    public static ChromeDriver open() {
        return open(1280, 900);
    }

    public static ChromeDriver open(int width, int height) {
        ChromeOptions options = new ChromeOptions();
        binary().ifPresent(options::setBinary);
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=" + width + "," + height);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(DRIVER)).usingAnyFreePort().build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
        driver.manage().window().setSize(new Dimension(width, height));
        return driver;
    }

    /** Saves a PNG of what the browser shows under target/console-screenshots/{name}.png. */
    public static Path screenshot(ChromeDriver driver, String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
            Path to = SCREENSHOTS.resolve(name + ".png");
            Files.copy(shot.toPath(), to, StandardCopyOption.REPLACE_EXISTING);
            return to;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static java.util.Optional<String> binary() {
        for (String b : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
            if (Files.isExecutable(Path.of(b))) {
                return java.util.Optional.of(b);
            }
        }
        return java.util.Optional.empty();
    }
}
