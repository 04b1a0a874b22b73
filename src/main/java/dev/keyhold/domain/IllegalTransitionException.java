package dev.keyhold.domain;

/**
 * A move a lifecycle does not allow (a key's or an activation request's). A domain exception: it knows nothing of
 * HTTP; the problem mapper turns it into a 409 with its {@link #slug()}, in one place.
 */
public class IllegalTransitionException extends RuntimeException {

    private final String slug;

    public IllegalTransitionException(String slug, String message) {
        super(message);
        this.slug = slug;
    }

    /** A short machine name for the rule that refused the move, e.g. {@code illegal-key-transition}. */
    public String slug() {
        return slug;
    }
}
