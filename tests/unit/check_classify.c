/*
 * check_classify.c - the model's arithmetic: token probabilities, the
 * chi-square statistics against values worked out by hand, symmetry,
 * monotonicity without saturation, the regression update and verdicts.
 */
#include <math.h>
#include <stdio.h>

#include "agent/classify.h"
#include "tests/unit/unit.h"

static struct classify_params
params(void)
{
	struct classify_params p;

	classify_defaults(&p);
	return p;
}

START_TEST(test_token_probability)
{
	struct classify_params p = params();

	/* Never seen: the prior x. */
	ck_assert_double_eq(classify_token(&p, 0, 0, 10, 10), p.robx);
	/* Seen often in spam only: near 1; in ham only: near 0. */
	ck_assert(classify_token(&p, 40, 0, 100, 100) > 0.99);
	ck_assert(classify_token(&p, 0, 40, 100, 100) < 0.01);
	/* Class sizes are normalized: 10 of 100 spam vs 10 of 1000 ham. */
	ck_assert(classify_token(&p, 10, 10, 100, 1000) > 0.85);
	/* With x = 0.5 the two classes mirror each other exactly. */
	p.robx = 0.5;
	ck_assert_double_eq_tol(classify_token(&p, 3, 7, 50, 80),
	    1 - classify_token(&p, 7, 3, 80, 50), 1e-15);
}
END_TEST

START_TEST(test_chi_by_hand)
{
	struct classify_params p = params();
	double f = 0.9, chi;

	/* One token: Q(x | 2) = e^(-x/2), so Robinson's I is f itself, the
	 * spam test's P is f and the ham test's is 1 - f: both statistics
	 * are ln(f / (1 - f)). */
	chi = classify_chi(&p, &f, 1);
	ck_assert_double_eq_tol(chi, 2 * log(0.9 / 0.1), 1e-12);
	/* No significant token: no evidence. */
	f = 0.6;
	ck_assert_double_eq(classify_chi(&p, &f, 1), 0);
	ck_assert_double_eq(classify_chi(&p, NULL, 0), 0);
}
END_TEST

START_TEST(test_chi_symmetric_and_monotone)
{
	struct classify_params p = params();
	double f[2000], g[2000], prev = -INFINITY;

	for (size_t i = 0; i < 2000; i++) {
		f[i] = i % 3 ? 0.97 : 0.08;
		g[i] = 1 - f[i];
	}
	ck_assert_double_eq_tol(classify_chi(&p, f, 2000),
	    -classify_chi(&p, g, 2000), 1e-9);
	/* More spam evidence always scores higher, far beyond the point
	 * where a plain probability would round to 1. */
	for (size_t n = 50; n <= 2000; n += 50) {
		double c;
		for (size_t i = 0; i < n; i++)
			f[i] = 0.99;
		c = classify_chi(&p, f, n);
		ck_assert_msg(c > prev, "not monotone at %zu", n);
		prev = c;
	}
}
END_TEST

START_TEST(test_score_range)
{
	struct classify_params p = params();
	double s;

	/* Until both classes were trained: 0.5 whatever the evidence. */
	ck_assert_double_eq(classify_score(&p, 50, 3, 0, 100), 0.5);
	ck_assert_double_eq(classify_score(&p, 50, 3, 100, 0), 0.5);
	ck_assert_double_eq(classify_score(&p, 0, 0, 100, 100), 0.5);
	/* The logistic of the sum over the spread while not extreme. */
	ck_assert_double_eq_tol(classify_score(&p, 2, 1, 10, 10),
	    1 / (1 + exp(-3 / p.spread)), 1e-12);
	ck_assert_double_eq_tol(classify_score(&p, -2, -1, 10, 10),
	    1 / (1 + exp(3 / p.spread)), 1e-12);
	/* Huge evidence: below 1, and more still ranks higher. */
	s = classify_score(&p, 1e6, 0, 1000, 1000);
	ck_assert(s < 1 && s > classify_score(&p, 1e5, 0, 1000, 1000));
	s = classify_score(&p, -1e6, 0, 1000, 1000);
	ck_assert(s > 0 && s < classify_score(&p, -1e5, 0, 1000, 1000));
}
END_TEST

START_TEST(test_update)
{
	struct classify_params p = params();
	int64_t up = classify_update(&p, 0, 1);
	int64_t down = classify_update(&p, 0, 0);

	/* At z = 0 (p = 0.5) a spam moves the weights by +eta/2. */
	ck_assert_int_eq(up, llround(p.eta * 0.5 * CLASSIFY_WEIGHT_SCALE));
	ck_assert_int_eq(down, -up);
	/* Already confident and right: (almost) nothing to learn. */
	ck_assert(llabs(classify_update(&p, 25, 1)) < 2);
	/* Confident and wrong: the largest step. */
	ck_assert(classify_update(&p, -25, 1) > up);
}
END_TEST

START_TEST(test_verdict)
{
	struct classify_params p = params();

	ck_assert_int_eq(classify_verdict(&p, p.spam_cut), 2);
	ck_assert_int_eq(classify_verdict(&p, nextafter(p.spam_cut, 0)), 1);
	ck_assert_int_eq(classify_verdict(&p, p.ham_cut), 1);
	ck_assert_int_eq(classify_verdict(&p, nextafter(p.ham_cut, 0)), 0);
	ck_assert_int_eq(classify_verdict(&p, 0), 0);
	ck_assert_int_eq(classify_verdict(&p, 1), 2);
}
END_TEST

static Suite *
classify_suite(void)
{
	Suite *s = suite_create("classify");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_token_probability);
	tcase_add_test(tc, test_chi_by_hand);
	tcase_add_test(tc, test_chi_symmetric_and_monotone);
	tcase_add_test(tc, test_score_range);
	tcase_add_test(tc, test_update);
	tcase_add_test(tc, test_verdict);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(classify_suite)
