package dev.keyhold.validator;

/**
 * Opt-in: receives the token with its verdict, for a reporter that sends rejected tokens (and a sample of accepted
 * ones) to Keyhold's evidence endpoint. The library ships no implementation and calls one only when given
 * ({@link KeyholdValidator.Builder#reporter(TokenReporter)}); the verdict log never carries the token.
 */
@FunctionalInterface
public interface TokenReporter {

    void report(String token, Verdict verdict);
}
