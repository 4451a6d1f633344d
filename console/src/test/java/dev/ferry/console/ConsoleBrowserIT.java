package dev.ferry.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.db.Databases;
import dev.ferry.testkit.LocalCluster;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The operator's path in a real browser (Debian's headless Chromium driven by Selenium) against a
 * console on a real Ferry: Kafka, PostgreSQL, an orchestrator and a worker. Every page is saved as
 * a screenshot under {@code target/screenshots}.
 */
class ConsoleBrowserIT {
  private static final Path SHOTS = Path.of("target", "screenshots");
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** Jobs whose first attempt already failed: the next one succeeds. */
  private static final Set<String> FAILED_ONCE = ConcurrentHashMap.newKeySet();

  /** Fails the first attempt of every job, succeeds after; calls the dependency "pay-api". */
  static final class FlakyOnce implements JobHandler {
    @Override
    public String type() {
      return "flaky-once";
    }

    @Override
    public String dependency(JsonNode payload) {
      return "pay-api";
    }

    @Override
    public JobResult handle(JobContext context) {
      if (FAILED_ONCE.add(context.jobId().toString())) {
        return JobResult.retry("pay-api answered 503 (first attempt of " + context.jobId() + ")");
      }
      return JobResult.success(dev.ferry.core.json.FerryJson.object().put("paid", true));
    }
  }

  private static LocalCluster ferry;
  private static HikariDataSource db;
  private static ConsoleServer console;
  private static String base;
  private WebDriver browser;
  private String testName;

  @BeforeAll
  static void startFerryAndConsole() throws Exception {
    Files.createDirectories(SHOTS);
    ferry =
        LocalCluster.start(
            "console_ui",
            1,
            c -> c.with(Setting.BREAKER_REPORT_MS, "20"),
            List.of(new FlakyOnce()));
    FerryConfig config = ferry.config().with(Setting.CONSOLE_PORT, "0");
    db = Databases.pool(config, "console-test");
    console = ConsoleServer.start(db, config);
    base = "http://127.0.0.1:" + console.port();
  }

  @AfterAll
  static void stop() {
    if (console != null) {
      console.close();
    }
    if (db != null) {
      db.close();
    }
    if (ferry != null) {
      ferry.close();
    }
  }

  @BeforeEach
  void openBrowser(TestInfo info) {
    testName = info.getTestMethod().orElseThrow().getName();
    browser = browser(1280, 900);
  }

  @AfterEach
  void closeBrowser() {
    if (browser != null) {
      browser.quit();
    }
  }

  /** Headless Chromium from Debian, with its own driver (no download). */
  static WebDriver browser(int width, int height) {
    Path chromium = Path.of("/usr/bin/chromium");
    Path driver = Path.of("/usr/bin/chromedriver");
    assertThat(Files.isExecutable(chromium) && Files.isExecutable(driver))
        .as(
            "the browser tests need Debian's chromium and chromium-driver:"
                + " apt-get install -y chromium chromium-driver (.ci/run installs them)")
        .isTrue();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=" + width + "," + height);
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile()).build();
    WebDriver d = new ChromeDriver(service, options);
    d.manage().window().setSize(new Dimension(width, height));
    return d;
  }

  private void shot(String name) throws IOException {
    byte[] png = ((ChromeDriver) browser).getScreenshotAs(OutputType.BYTES);
    Files.write(SHOTS.resolve(name + ".png"), png);
  }

  private void until(String what, java.util.function.Function<WebDriver, Boolean> condition) {
    new WebDriverWait(browser, WAIT)
        .withMessage(what)
        .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
        .pollingEvery(Duration.ofMillis(100))
        .until(condition);
  }

  private UUID submit(String json) {
    return ferry.submit(json);
  }

  private String status(UUID id) {
    LocalCluster.Job j = ferry.job(id);
    return j == null ? null : j.status();
  }

  @Test
  void overview_failed_job_retry_succeeded_inThreeClicks() throws Exception {
    String evil = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">";
    UUID hostile =
        submit(
            "{\"type\":\"flaky-once\",\"maxAttempts\":1,\"payload\":{\"note\":"
                + dev.ferry.core.json.FerryJson.MAPPER.writeValueAsString(evil)
                + "}}");
    List<UUID> failing = new ArrayList<>(List.of(hostile));
    for (int i = 0; i < 3; i++) {
      failing.add(
          submit("{\"type\":\"flaky-once\",\"maxAttempts\":1,\"payload\":{\"n\":" + i + "}}"));
    }
    for (int i = 0; i < 5; i++) {
      submit("{\"type\":\"echo\",\"payload\":{\"i\":" + i + "}}");
    }
    for (UUID id : failing) {
      assertThat(ferry.awaitFinished(id, WAIT).status()).isEqualTo("FAILED");
    }

    // The applier counted every outcome per minute and type (ferry.job_activity).
    JsonNode overview =
        dev.ferry.core.json.FerryJson.parse(
            java.net.http.HttpClient.newHttpClient()
                .send(
                    java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(base + "/api/overview"))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString())
                .body());
    JsonNode flaky = null;
    for (JsonNode t : overview.get("activity")) {
      if (t.get("type").asText().equals("flaky-once")) {
        flaky = t;
      }
    }
    assertThat(flaky).as("activity of flaky-once in %s", overview).isNotNull();
    assertThat(flaky.get("failed1h").asLong()).isGreaterThanOrEqualTo(failing.size());
    assertThat(flaky.get("failed5m").asLong()).isGreaterThanOrEqualTo(failing.size());
    long finishedInChart = 0;
    for (JsonNode m : overview.get("perMinute")) {
      finishedInChart += m.get("finished").asLong();
    }
    assertThat(overview.get("perMinute")).hasSize(60);
    assertThat(finishedInChart).isGreaterThanOrEqualTo(failing.size());

    // 1. The overview: FAILED stands out; the live part refreshes without reloading the page.
    browser.get(base + "/");
    until(
        "the FAILED count shows the failed jobs",
        d ->
            Long.parseLong(
                    d.findElement(By.cssSelector("[data-status=FAILED]"))
                        .getText()
                        .replace(",", ""))
                >= failing.size());
    browser.findElement(By.tagName("body")).sendKeys("");
    ((ChromeDriver) browser).executeScript("document.body.dataset.loadedOnce = 'yes'");
    WebElement before = browser.findElement(By.id("live"));
    until("the live part is swapped by htmx", d -> isStale(before));
    assertThat(((ChromeDriver) browser).executeScript("return document.body.dataset.loadedOnce"))
        .as("no page reload, only the live part")
        .isEqualTo("yes");
    until("the chart is drawn", d -> !d.findElements(By.cssSelector("#chart canvas")).isEmpty());
    shot("overview");

    // 2. Click the FAILED count: the filtered list, filters in the URL.
    browser.findElement(By.cssSelector("a[href='/jobs?status=FAILED']")).click();
    until("the failed jobs are listed", d -> d.getCurrentUrl().endsWith("/jobs?status=FAILED"));
    assertThat(browser.findElements(By.cssSelector("table.jobs tbody tr")))
        .hasSizeGreaterThanOrEqualTo(failing.size());
    shot("jobs-failed");

    // 3. Open the hostile job: its payload shows as text and runs nothing.
    browser.findElement(By.cssSelector("a[href='/jobs/" + hostile + "']")).click();
    until("the job page", d -> d.getCurrentUrl().endsWith("/jobs/" + hostile));
    assertThat(browser.findElement(By.id("payload")).getText())
        .contains("<script>window.pwned=1</script><img src=x onerror=");
    assertThat(browser.findElement(By.id("job-status")).getText()).isEqualTo("FAILED");
    assertThat(browser.findElement(By.cssSelector(".timeline")).getText())
        .contains("Attempt 1")
        .contains("pay-api answered 503");
    assertThat(((ChromeDriver) browser).executeScript("return window.pwned")).isNull();
    assertThatThrownBy(() -> browser.switchTo().alert())
        .isInstanceOf(NoAlertPresentException.class);
    shot("job-failed");

    // 4. Retry: the handler succeeds this time.
    browser.findElement(By.id("retry")).click();
    until(
        "the retry is confirmed",
        d -> d.findElement(By.id("flash")).getText().contains("Retried 1 job"));
    until(
        "the job succeeds",
        d -> {
          d.navigate().refresh();
          return d.findElement(By.id("job-status")).getText().equals("SUCCEEDED");
        });
    assertThat(browser.findElement(By.id("result")).getText()).contains("\"paid\" : true");
    assertThat(browser.findElements(By.cssSelector(".timeline .attempt"))).hasSize(2);
    shot("job-succeeded");
    assertThat(status(hostile)).isEqualTo("SUCCEEDED");
  }

  @Test
  void breakerForcedOpenAndClosed_fromItsPage() throws Exception {
    UUID id = submit("{\"type\":\"flaky-once\",\"maxAttempts\":2,\"payload\":{}}");
    assertThat(ferry.awaitFinished(id, WAIT).status()).isEqualTo("SUCCEEDED");
    browser.get(base + "/breakers");
    until(
        "the pay-api breaker is listed",
        d -> !d.findElements(By.cssSelector("tr[data-dependency='pay-api']")).isEmpty());
    press("pay-api", "Open");
    until("the breaker is OPEN", d -> row("pay-api").getText().contains("OPEN"));
    assertThat(row("pay-api").getText()).contains("forced");
    shot("breakers-open");
    press("pay-api", "Close");
    until(
        "the breaker is CLOSED",
        d ->
            row("pay-api").getText().contains("CLOSED")
                && !row("pay-api").getText().contains("OPEN"));
    press("pay-api", "Reset");
    until("the breaker is no longer forced", d -> !row("pay-api").getText().contains("forced"));
    shot("breakers");
  }

  /** Clicks a button of a breaker's row (the live part may be swapped meanwhile: retried). */
  private void press(String dependency, String button) {
    until(
        "pressed " + button,
        d -> {
          row(dependency).findElement(By.xpath(".//button[text()='" + button + "']")).click();
          return true;
        });
  }

  private WebElement row(String dependency) {
    return browser.findElement(By.cssSelector("tr[data-dependency='" + dependency + "']"));
  }

  @Test
  void schedule_pausedTriggeredResumedDeleted_fromItsPage() throws Exception {
    assertThat(
            ferry.submit(
                "{\"type\":\"echo\",\"payload\":{\"from\":\"yearly\"},"
                    + "\"schedule\":{\"name\":\"new-year\",\"cron\":\"0 0 1 1 *\","
                    + "\"timeZone\":\"Europe/Paris\"}}"))
        .as("a schedule definition creates no job now")
        .isNull();
    until(
        "the schedule is listed",
        d -> {
          d.get(base + "/schedules");
          return !d.findElements(By.cssSelector("tr[data-schedule='new-year']")).isEmpty();
        });
    assertThat(schedule("new-year").getText()).contains("0 0 1 1 *").contains("Europe/Paris");
    shot("schedules");
    schedule("new-year").findElement(By.xpath(".//button[text()='Pause']")).click();
    until("paused", d -> schedule("new-year").getText().contains("PAUSED"));
    schedule("new-year").findElement(By.xpath(".//button[text()='Trigger']")).click();
    until("triggered", d -> d.findElement(By.id("flash")).getText().contains("trigger (job "));
    String flash = browser.findElement(By.id("flash")).getText();
    UUID job = UUID.fromString(flash.substring(flash.indexOf("(job ") + 5, flash.indexOf(")")));
    assertThat(ferry.awaitFinished(job, WAIT).status()).isEqualTo("SUCCEEDED");
    schedule("new-year").findElement(By.xpath(".//button[text()='Resume']")).click();
    until("resumed", d -> schedule("new-year").getText().contains("ENABLED"));
    schedule("new-year").findElement(By.xpath(".//button[text()='Delete']")).click();
    until("deleted", d -> d.findElements(By.cssSelector("tr[data-schedule='new-year']")).isEmpty());
  }

  private WebElement schedule(String name) {
    return browser.findElement(By.cssSelector("tr[data-schedule='" + name + "']"));
  }

  @Test
  void limit_addedEditedAndCleared_fromItsPage_badInputSaysWhy() throws Exception {
    browser.get(base + "/limits");
    WebElement add = browser.findElement(By.id("limit-add"));
    add.findElement(By.name("dependency")).sendKeys("ocr-api");
    add.findElement(By.name("rate")).sendKeys("0/0s");
    add.findElement(By.name("maxConcurrent")).sendKeys("5");
    add.findElement(By.cssSelector("button[type=submit]")).click();
    until(
        "the refusal is shown",
        d -> d.findElement(By.id("flash")).getText().contains("at least 1 but was 0"));
    assertThat(browser.findElement(By.id("flash")).getAttribute("class")).contains("error");
    assertThat(browser.findElements(By.cssSelector("tr[data-dependency='ocr-api']"))).isEmpty();
    shot("limits-refused");

    WebElement rate = browser.findElement(By.cssSelector("#limit-add [name=rate]"));
    rate.clear();
    rate.sendKeys("50/1s");
    browser.findElement(By.cssSelector("#limit-add button[type=submit]")).click();
    until("the limit is listed", d -> row("ocr-api").getText().contains("50/1s"));
    assertThat(row("ocr-api").findElement(By.cssSelector("td.max")).getText()).isEqualTo("5");
    until(
        "the change is confirmed after the reload",
        d ->
            d.findElement(By.id("flash"))
                .getText()
                .equals("Limits of ocr-api: rate 50/1s, at most 5 at once."));

    // A name holding HTML is text, in the row and in its form.
    String evil = "<img src=x onerror=window.pwned=1>";
    browser.findElement(By.cssSelector("#limit-add [name=dependency]")).sendKeys(evil);
    browser.findElement(By.cssSelector("#limit-add [name=maxConcurrent]")).sendKeys("2");
    browser.findElement(By.cssSelector("#limit-add button[type=submit]")).click();
    until(
        "the HTML name is listed as text",
        d -> !d.findElements(By.cssSelector("tr[data-dependency='" + evil + "']")).isEmpty());
    assertThat(row(evil).findElement(By.cssSelector("th.dep")).getText()).isEqualTo(evil);
    assertThat(((ChromeDriver) browser).executeScript("return window.pwned")).isNull();
    shot("limits-listed");

    // Edit: another rate, no cap (empty), then a bad max is refused and changes nothing.
    WebElement editRate = row("ocr-api").findElement(By.name("rate"));
    editRate.clear();
    editRate.sendKeys("20/500ms");
    row("ocr-api").findElement(By.name("maxConcurrent")).clear();
    row("ocr-api").findElement(By.xpath(".//button[text()='Save']")).click();
    until(
        "the edit is shown",
        d ->
            row("ocr-api").findElement(By.cssSelector("td.rate")).getText().equals("20/500ms")
                && row("ocr-api").findElement(By.cssSelector("td.max")).getText().equals("—"));
    WebElement editMax = row("ocr-api").findElement(By.name("maxConcurrent"));
    editMax.sendKeys("0");
    row("ocr-api").findElement(By.xpath(".//button[text()='Save']")).click();
    until(
        "the bad max is refused",
        d -> d.findElement(By.id("flash")).getText().contains("max concurrent must be"));
    shot("limits-edit-refused");
    browser.navigate().refresh();
    assertThat(row("ocr-api").findElement(By.cssSelector("td.max")).getText()).isEqualTo("—");

    // Clear: the dependency has no limits any more.
    row("ocr-api").findElement(By.xpath(".//button[text()='Clear']")).click();
    until(
        "cleared", d -> d.findElements(By.cssSelector("tr[data-dependency='ocr-api']")).isEmpty());
    until(
        "the clear is confirmed",
        d -> d.findElement(By.id("flash")).getText().equals("Limits of ocr-api cleared."));
    row(evil).findElement(By.xpath(".//button[text()='Clear']")).click();
    until("no limit left", d -> !d.findElements(By.cssSelector(".empty-state")).isEmpty());
    shot("limits-empty");
  }

  @Test
  void bulkCancel_confirmsHowManyJobs_thenCancelsExactlyThose() throws Exception {
    String runAt = java.time.Instant.now().plus(Duration.ofHours(1)).toString();
    List<UUID> later = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      later.add(
          submit(
              "{\"type\":\"echo\",\"dependency\":\"bulk-dep\",\"key\":\"bulk-"
                  + i
                  + "\",\"runAt\":\""
                  + runAt
                  + "\"}"));
    }
    UUID other = submit("{\"type\":\"echo\",\"runAt\":\"" + runAt + "\"}");
    for (UUID id : later) {
      until("job recorded", d -> "PENDING".equals(status(id)));
    }
    until("job recorded", d -> "PENDING".equals(status(other)));

    browser.get(base + "/jobs?status=PENDING&dependency=bulk-dep");
    assertThat(browser.findElements(By.cssSelector("table.jobs tbody tr"))).hasSize(5);
    browser.findElement(By.linkText("Cancel…")).click();
    until("the confirmation", d -> d.getCurrentUrl().contains("/jobs/confirm"));
    assertThat(browser.findElement(By.id("confirm-count")).getAttribute("data-count"))
        .isEqualTo("5");
    assertThat(browser.findElement(By.id("confirm")).getText()).isEqualTo("Cancel 5 jobs");
    shot("bulk-confirm");
    browser.findElement(By.id("confirm")).click();
    until(
        "back on the list",
        d -> d.getCurrentUrl().endsWith("/jobs?status=PENDING&dependency=bulk-dep"));
    until("none left", d -> !d.findElements(By.cssSelector("p.empty")).isEmpty());
    for (UUID id : later) {
      assertThat(status(id)).isEqualTo("CANCELLED");
    }
    assertThat(status(other)).isEqualTo("PENDING");
  }

  @Test
  void aJobWhoseKeyIsFull_saysWhyItWaits_andStartsOnceTheKeyFrees() throws Exception {
    String key = "tenant-ui";
    UUID holder =
        submit(
            "{\"type\":\"sleep\",\"payload\":{\"ms\":300000},\"timeoutMs\":300000,"
                + "\"concurrency\":{\"key\":\""
                + key
                + "\",\"limit\":1}}");
    until("the holder runs", d -> "RUNNING".equals(status(holder)));
    UUID waiting =
        submit(
            "{\"type\":\"echo\",\"priority\":2,\"payload\":{\"tenant\":\""
                + key
                + "\"},\"concurrency\":{\"key\":\""
                + key
                + "\",\"limit\":1}}");
    until("the second job is recorded", d -> "PENDING".equals(status(waiting)));

    browser.get(base + "/jobs/" + waiting);
    assertThat(browser.findElement(By.id("job-status")).getText()).isEqualTo("PENDING");
    assertThat(browser.findElement(By.id("waiting-for")).getText())
        .isEqualTo("key tenant-ui: 1 of 1 slots in use");
    assertThat(browser.findElement(By.id("priority")).getText()).isEqualTo("2");
    assertThat(browser.findElement(By.id("concurrency")).getText())
        .isEqualTo("key tenant-ui, limit 1");
    shot("job-waiting-for-key");

    browser.get(base + "/jobs?status=PENDING");
    assertThat(
            browser
                .findElement(By.cssSelector("a[href='/jobs/" + waiting + "']"))
                .findElement(By.xpath("./ancestor::tr"))
                .findElement(By.cssSelector("small.waiting"))
                .getText())
        .isEqualTo("key tenant-ui: 1 of 1 slots in use");
    shot("jobs-waiting-for");

    // Cancelling the holder frees the key's slot: the waiting job runs.
    browser.get(base + "/jobs/" + holder);
    browser.findElement(By.id("cancel")).click();
    until("the holder is cancelled", d -> "CANCELLED".equals(status(holder)));
    assertThat(ferry.awaitFinished(waiting, WAIT).status()).isEqualTo("SUCCEEDED");
    browser.get(base + "/jobs/" + waiting);
    assertThat(browser.findElements(By.id("waiting-for"))).isEmpty();
  }

  @Test
  void aFormOrFetchFromAnotherLocalOrigin_changesNothing() throws Exception {
    String runAt = java.time.Instant.now().plus(Duration.ofHours(1)).toString();
    UUID target = submit("{\"type\":\"echo\",\"runAt\":\"" + runAt + "\"}");
    until("job recorded", d -> "PENDING".equals(status(target)));
    String action = base + "/api/jobs/" + target + "/cancel";
    String page =
        """
        <!DOCTYPE html><html><body>
        <form id="f" method="post" action="%1$s" enctype="text/plain">
          <input name='{"x":"' value='"}'>
        </form>
        <script>
          fetch("%1$s", {method: "POST", mode: "no-cors", credentials: "include",
                         headers: {"Content-Type": "application/json"}, body: "{}"})
            .finally(() => { document.title = "fetched"; document.getElementById("f").submit(); });
        </script></body></html>
        """
            .formatted(action);
    HttpServer evil = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    evil.createContext(
        "/",
        ex -> {
          byte[] body = page.getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    evil.start();
    try {
      browser.get("http://localhost:" + evil.getAddress().getPort() + "/");
      until("the form was posted to the console", d -> d.getCurrentUrl().startsWith(action));
      assertThat(browser.getPageSource())
          .containsAnyOf("cross-site", "cross-origin", "Content-Type");
      shot("cross-origin-refused");
    } finally {
      evil.stop(0);
    }
    assertThat(status(target)).isEqualTo("PENDING");
  }

  @Test
  void everyPage_rendersAtDesktopAndPhoneWidth() throws Exception {
    ferry.submitRaw(
        "{\"type\": 42, \"payload\": \"<b>not a job</b>\"}".getBytes(StandardCharsets.UTF_8));
    until(
        "the rejection is recorded",
        d -> {
          d.get(base + "/rejected");
          return !d.findElements(By.cssSelector("pre.raw")).isEmpty();
        });
    assertThat(browser.findElement(By.cssSelector("pre.raw")).getText())
        .contains("<b>not a job</b>");
    shot("rejected");
    // A job waiting to retry: the page counts down to its next attempt, in the browser.
    UUID waiting =
        submit(
            "{\"type\":\"flaky-once\",\"maxAttempts\":2,"
                + "\"backoff\":{\"initialMs\":90000,\"jitter\":0}}");
    until("the job waits to retry", d -> "RETRY_WAIT".equals(status(waiting)));
    browser.get(base + "/jobs/" + waiting);
    assertThat(browser.findElement(By.id("job-status")).getText()).isEqualTo("RETRY_WAIT");
    until(
        "the countdown ticks (seconds, from console.js; the server writes minutes)",
        d -> d.findElement(By.cssSelector("[data-countdown]")).getText().matches("in [0-9]+ s"));
    shot("job-retry-wait");
    for (String page : List.of("workers", "limits", "jobs")) {
      browser.get(base + "/" + page);
      assertThat(browser.findElement(By.tagName("h1")).getText()).isNotBlank();
      shot(page);
    }
    browser.get(base + "/no-such-page");
    assertThat(browser.findElement(By.cssSelector("p.error")).getText()).contains("no such page");
    // Keyboard: the skip link is the first stop and leads to the content.
    browser.get(base + "/");
    browser.findElement(By.tagName("body")).sendKeys(org.openqa.selenium.Keys.TAB);
    assertThat(browser.switchTo().activeElement().getText()).isEqualTo("Skip to content");

    WebDriver phone = browser(390, 844);
    try {
      for (String page : List.of("", "jobs")) {
        phone.get(base + "/" + page);
        Object overflow =
            ((ChromeDriver) phone)
                .executeScript(
                    "return document.documentElement.scrollWidth > window.innerWidth + 1");
        assertThat(overflow).as("/" + page + " fits a phone's width").isEqualTo(false);
        Files.write(
            SHOTS.resolve("phone-" + (page.isEmpty() ? "overview" : page) + ".png"),
            ((ChromeDriver) phone).getScreenshotAs(OutputType.BYTES));
      }
    } finally {
      phone.quit();
    }
  }

  @Test
  void withAToken_pagesAskToSignIn() throws Exception {
    FerryConfig config =
        ferry
            .config()
            .with(Setting.CONSOLE_PORT, "0")
            .with(Setting.CONSOLE_AUTH_TOKEN, "t0ken-for-ui");
    try (ConsoleServer authed = ConsoleServer.start(db, config)) {
      String url = "http://127.0.0.1:" + authed.port();
      browser.get(url + "/jobs?status=FAILED");
      until("the login form", d -> d.getCurrentUrl().contains("/login"));
      shot("login");
      browser.findElement(By.id("token")).sendKeys("wrong");
      browser.findElement(By.cssSelector("form.login button")).click();
      until("refused", d -> d.findElement(By.cssSelector("p.error")).getText().contains("not"));
      browser.findElement(By.id("token")).sendKeys("t0ken-for-ui");
      browser.findElement(By.cssSelector("form.login button")).click();
      until(
          "signed in, back where we were going",
          d -> d.getCurrentUrl().endsWith("/jobs?status=FAILED"));
      assertThat(browser.manage().getCookieNamed("ferry_session").isHttpOnly()).isTrue();
      assertThat(browser.manage().getCookieNamed("ferry_session").getSameSite())
          .isEqualTo("Strict");
    }
  }

  private static boolean isStale(WebElement e) {
    try {
      e.isDisplayed();
      return false;
    } catch (org.openqa.selenium.StaleElementReferenceException stale) {
      return true;
    }
  }
}
