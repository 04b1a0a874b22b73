package dev.keyhold.audit;

import java.util.List;

/** One page of audit records; {@code next} is the {@code after} value for the next page, null on the last page. */
public record AuditPage(List<AuditRecordView> records, Long next) {}
