package io.progresshub.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.progresshub.core.Job;
import io.progresshub.core.JobLimits;
import io.progresshub.core.JobRules;
import io.progresshub.core.JobStatus;
import io.progresshub.core.JobUpdate;
import io.progresshub.core.NewJob;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The core counts a job's state without a JSON library: it must count what the store writes. */
class JobStateBytesTest {

  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  @Test
  void jobStateBytesAreTheLengthOfTheJsonTheStoreWritesForThem() throws Exception {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("codec", "h264");
    nested.put("ratio", 1.7777777777777777);
    nested.put("missing", null);
    nested.put("tags", List.of("hd", "stereo"));
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("source", "s3://bucket/in/movie-\u00e9\u4e2d\ud83c\udfac.mp4");
    metadata.put("bytes", 5_000_000_123L);
    metadata.put("fps", 29.97);
    metadata.put("negative", -3);
    metadata.put("hdr", false);
    metadata.put("video", nested);
    metadata.put("frames", Arrays.asList(1, 2.5, "three", true, null, List.of(), Map.of()));
    metadata.put("quote", "she said \"hi\"\n\ttab \\ slash \u0001 bell");
    Instant now = Instant.parse("2026-03-01T09:00:00Z");
    Job job = JobRules.created(NewJob.builder().metadata(metadata).build(), "job-1", now);
    job = JobRules.apply(job, JobUpdate.builder().status(JobStatus.IN_PROGRESS).build(), now);
    Job done =
        JobRules.apply(
            job,
            JobUpdate.builder()
                .status(JobStatus.COMPLETED)
                .stage("encode \u00fc")
                .message("done\r\n")
                .result(Map.of("captions", "s3://out.vtt", "words", 1234, "ok", true))
                .build(),
            now);

    long expected =
        json(done.metadata())
            + json(done.result().orElseThrow())
            + json(done.stage().orElseThrow())
            + json(done.message().orElseThrow());
    assertThat(JobLimits.stateBytes(done)).isEqualTo(expected);
  }

  /** As JobJson writes it: text (then stored as UTF-8), with characters outside the BMP kept. */
  private static long json(Object value) throws Exception {
    return MAPPER.writeValueAsString(value).getBytes(StandardCharsets.UTF_8).length;
  }
}
