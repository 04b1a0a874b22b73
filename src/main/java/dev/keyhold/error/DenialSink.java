package dev.keyhold.error;

import io.smallrye.mutiny.Uni;

/**
 * Where the problem mapper reports a 403 it is answering (the audit trail records it: {@code audit/DenialRecorder}).
 * An interface here so that the error layer, which everything uses, depends on nothing above it.
 */
public interface DenialSink {

    /** Records the refusal of the current request; never fails. Safe on the event loop. */
    Uni<Void> requestDenied(String reason);

    /** The same, for callers that cannot return a Uni. */
    void recordRequestDenied(String reason);
}
