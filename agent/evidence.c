/*
 * evidence.c - the evidence behind a score as JSON (evidence.h).
 */
#include <stdio.h>
#include <string.h>

#include "agent/evidence.h"
#include "agent/xmem.h"

/* At most per_side items a side (0: all). */
static json_object *
evidence_array(const struct filter_result *r, size_t per_side)
{
	json_object *ev = json_object_new_array();
	size_t nside[2] = { 0, 0 };

	for (size_t i = 0; i < r->nevidence; i++) {
		const struct filter_evidence *e = &r->evidence[i];
		int side = e->probability > 0.5;
		json_object *j;

		if (per_side > 0 && nside[side]++ >= per_side)
			continue;
		j = json_object_new_object();

		json_object_object_add(j, "feature",
		    json_object_new_string(e->feature));
		json_object_object_add(j, "description",
		    json_object_new_string(e->description));
		json_object_object_add(j, "spam", json_object_new_int64(e->spam));
		json_object_object_add(j, "ham", json_object_new_int64(e->ham));
		json_object_object_add(j, "probability",
		    json_object_new_double(e->probability));
		json_object_array_add(ev, j);
	}
	return ev;
}

json_object *
evidence_json(const struct filter_result *r)
{
	return evidence_array(r, 0);
}

char *
evidence_text(const struct filter_result *r, size_t per_side)
{
	json_object *ev = evidence_array(r, per_side);
	char *text = xstrdup(json_object_to_json_string_ext(ev,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(ev);
	return text;
}

void
evidence_print(const char *text, const char *indent, size_t per_side)
{
	json_object *ev = text ? json_tokener_parse(text) : NULL;
	size_t n;

	if (ev == NULL || !json_object_is_type(ev, json_type_array))
		goto out;
	n = json_object_array_length(ev);
	for (int spam_side = 1; spam_side >= 0; spam_side--) {
		size_t shown = 0;

		for (size_t i = 0; i < n && shown < per_side; i++) {
			json_object *e = json_object_array_get_idx(ev, i);
			double p = json_object_get_double(
			    json_object_object_get(e, "probability"));

			if ((p > 0.5) != spam_side)
				continue;
			if (shown == 0)
				printf("%sevidence for %s: ", indent,
				    spam_side ? "spam" : "ham");
			else
				fputs("; ", stdout);
			printf("%s (%lld spam, %lld ham)",
			    json_object_get_string(json_object_object_get(e,
			    "description")),
			    (long long)json_object_get_int64(
			    json_object_object_get(e, "spam")),
			    (long long)json_object_get_int64(
			    json_object_object_get(e, "ham")));
			shown++;
		}
		if (shown > 0)
			putchar('\n');
	}
out:
	json_object_put(ev);
}
