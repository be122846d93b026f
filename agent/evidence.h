/*
 * evidence.h - the evidence behind a score as JSON, one shape for all who
 * show it: `mailsift score --json --explain`, the ledger (each decision
 * keeps the evidence it was taken on, so that `mailsift status` can say
 * why long after the model has moved on) and `mailsift status`.
 *
 * The shape: an array, strongest first, spam side then ham side, of
 * {"feature", "description", "spam", "ham", "probability"}.
 */
#ifndef MAILSIFT_EVIDENCE_H
#define MAILSIFT_EVIDENCE_H

#include <json.h>

#include "agent/filter.h"

/* The evidence of r (scored with explain) as a new JSON array. */
json_object *evidence_json(const struct filter_result *r);

/* The same as text, for storing, with at most per_side items a side;
 * malloc'd. */
char *evidence_text(const struct filter_result *r, size_t per_side);

/* Prints stored evidence (evidence_text's) as lines "INDENTevidence for
 * spam: DESC (S spam, H ham); ..." with at most per_side items a side.
 * Text that is not such an array prints nothing. */
void evidence_print(const char *text, const char *indent, size_t per_side);

#endif
