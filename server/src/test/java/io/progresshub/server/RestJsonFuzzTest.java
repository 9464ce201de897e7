package io.progresshub.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.progresshub.core.HubException;
import io.progresshub.core.JobIds;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import io.progresshub.protocol.RestCodec;
import io.progresshub.server.internal.http.RestJson;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Fuzzes the REST API's request bodies: what {@code POST /api/jobs} (create) and {@code POST
 * /api/jobs/{id}/events} (publish) do with a body before it reaches the hub. Whatever the bytes,
 * the only exception allowed out is {@link HubException} (answered with a 4xx and a JSON error), of
 * kind INVALID, or FORBIDDEN for a caller that named another owner without the right to.
 *
 * <p>Inputs: the body's bytes, then one byte whose lowest bit says whether the caller may create
 * jobs for other owners. The normal build runs the inputs under {@code RestJsonFuzzTestInputs/};
 * docs/fuzzing.md says how to fuzz for longer.
 */
class RestJsonFuzzTest {
  /** The server's default depth limit ({@code LimitsConfig.maxJsonDepth}). */
  private static final RestJson JSON = new RestJson(new RestCodec(32));

  private static final String CALLER = "alice";

  @FuzzTest
  void createAndPublishBodiesThrowOnlyHubExceptions(FuzzedDataProvider data) {
    boolean mayChooseOwner = data.consumeBoolean();
    byte[] body = data.consumeRemainingAsBytes();

    // Each endpoint reads the body on its own: neither may depend on what the other did.
    Optional<NewJob> created = refusedOr(() -> JSON.newJob(body, CALLER, mayChooseOwner), true);
    created.ifPresent(
        job -> {
          job.id().ifPresent(id -> assertThat(JobIds.isValid(id)).as("job id %s", id).isTrue());
          if (!mayChooseOwner) {
            assertThat(job.owner())
                .as("owner chosen by a caller without the right")
                .isEqualTo(CALLER);
          }
        });
    Optional<JobUpdate> update = refusedOr(() -> JSON.update(body), false);
    update.ifPresent(u -> assertThat(u).isNotNull());
  }

  /**
   * Runs {@code parse}: its result, or empty if it refused the body with a HubException of an
   * allowed kind. Any other exception propagates and fails the test.
   */
  private static <T> Optional<T> refusedOr(Supplier<T> parse, boolean forbiddenAllowed) {
    try {
      T value = parse.get();
      assertThat(value).isNotNull();
      return Optional.of(value);
    } catch (HubException e) {
      if (forbiddenAllowed && e.kind() == HubException.Kind.FORBIDDEN) {
        assertThat(e.code()).isEqualTo("forbidden");
      } else {
        assertThat(e.kind()).as("kind of %s", e).isEqualTo(HubException.Kind.INVALID);
        assertThat(e.code()).isIn("invalid_request", "invalid_json", "invalid_job_id");
      }
      assertThat(e.getMessage()).isNotBlank();
      return Optional.empty();
    }
  }
}
