package dev.keyhold.validator;

/**
 * Told of every verdict, after it is made, on the validating thread (keep it cheap). It never sees the token.
 * The built-in verdict log ({@link KeyholdValidator.Builder#logVerdicts(boolean)}) is one such listener.
 */
@FunctionalInterface
public interface VerdictListener {

    void onVerdict(Verdict verdict);
}
