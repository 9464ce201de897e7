package io.progresshub.protocol;

/**
 * A JSON body of the REST API (docs/api.md), request or response; {@link RestCodec} reads and
 * writes every one of them. Like {@link JobState}, JSON values inside ({@code metadata}, {@code
 * result}) are plain Java values: maps, lists, strings, numbers, booleans.
 */
public sealed interface RestBody
    permits JobResource,
        CreateJobRequest,
        PublishRequest,
        BatchRequest,
        JobListPage,
        HistoryPage,
        BatchResult,
        ServerStats,
        ErrorBody,
        Health,
        ConnectionList,
        BroadcastRequest,
        Delivered,
        Disconnected {}
