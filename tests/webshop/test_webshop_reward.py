"""The purchase reward on hand-built products and goals (no catalog needed)."""
from __future__ import annotations

import pytest

from turnrl.envs.webshop.reward import count_option_matches, normalize_colour, purchase_reward, title_nouns, type_factor

PRODUCT = {
    "Title": "Cotton Crew Neck T-Shirt for Men",
    "Attributes": ["machine wash", "cotton spandex"],
    "BulletPoints": ["Short sleeve tee", "Relaxed fit"],
    "Description": "A soft everyday shirt.",
    "query": "men's t-shirts",
    "product_category": "Clothing › Men › Shirts › T-Shirts",
}
GOAL = {
    "attributes": ["machine wash", "short sleeve"],
    "goal_options": ["navy blue", "large"],
    "price_upper": 30.0,
    "query": "men's t-shirts",
    "product_category": "Clothing › Men › Shirts › T-Shirts",
    "name": "Cotton Crew Neck T-Shirt for Men",
}
NOUNS = ["cotton", "crew", "neck", "t", "shirt", "men"]


def reward(product=PRODUCT, price=20.0, options=None, goal=GOAL, bought_nouns=NOUNS, goal_nouns=NOUNS):
    options = {"color": "navy blue", "size": "large"} if options is None else options
    return purchase_reward(product, price, options, goal, bought_nouns=bought_nouns, goal_nouns=goal_nouns)


def test_everything_matched_scores_one():
    r = reward()
    assert r.total == 1.0
    assert r.components() == {"attribute": 1.0, "option": 1.0, "price": 1.0, "type": 1.0}


def test_wrong_price_only_loses_one_of_five_parts():
    r = reward(price=30.01)
    assert r.price == 0.0 and r.total == pytest.approx(4 / 5)


def test_wrong_option_loses_its_share():
    r = reward(options={"color": "navy blue", "size": "small"})
    assert r.n_option_matched == 1 and r.total == pytest.approx(4 / 5)


def test_no_options_chosen_when_goal_wants_two():
    assert reward(options={}).total == pytest.approx(3 / 5)


def test_attribute_found_in_bullets_counts():
    # "short sleeve" is not among the product attributes but in its bullet points
    assert reward().n_attribute_matched == 2
    r = reward(product=dict(PRODUCT, BulletPoints=["Long sleeve"]))
    assert r.n_attribute_matched == 1 and r.total == pytest.approx(4 / 5)


def test_wrong_type_multiplies_down():
    other = dict(PRODUCT, query="kitchen", product_category="Home › Kitchen › Cookware")
    # no shared noun: r_type 0, whatever else matches
    assert reward(product=other, bought_nouns=["pan", "lid"]).total == 0.0
    # a few shared nouns: under 0.1 -> 0.1; between 0.1 and 0.2 without query/category match -> 0.5
    many = [f"n{i}" for i in range(20)]
    assert reward(product=other, bought_nouns=["n0"], goal_nouns=many).type == 0.1
    assert reward(product=other, bought_nouns=["n0", "n1", "n2"], goal_nouns=many).type == 0.5
    # the same shared-noun share keeps 1.0 when the search query matches
    assert reward(bought_nouns=["n0", "n1", "n2"], goal_nouns=many).type == 1.0


def test_type_factor_category_needs_two_shared_levels():
    goal = dict(GOAL, query="other")
    one_level = dict(PRODUCT, query="x", product_category="Clothing › Women")
    two_levels = dict(PRODUCT, query="x", product_category="Clothing › Men › Shoes")
    nouns = ["a", "b", "c", "d", "e", "f"]
    assert type_factor(one_level, goal, ["a"], nouns)[0] == 0.5
    assert type_factor(two_levels, goal, ["a"], nouns)[0] == 1.0


def test_goal_title_without_nouns_scores_point_two():
    assert type_factor(PRODUCT, dict(GOAL, query="q"), ["x"], [])[3] == 0.2


def test_colour_normalisation_and_fuzzy_options():
    assert normalize_colour("dark navy stripes") == "navy"
    assert normalize_colour("size 10") == "size 10"
    assert count_option_matches(["Navy Heather"], ["navy"]) == 1
    assert count_option_matches(["x-large"], ["large pack of 3 bottles"]) == 0


def test_reward_in_unit_interval_for_empty_goal():
    r = reward(goal=dict(GOAL, attributes=[], goal_options=[]), options={})
    assert r.total == 1.0 and r.attribute == 1.0 and r.option == 1.0


def test_spacy_nouns_of_a_title():
    nouns = title_nouns("Stainless Steel Water Bottle with Straw Lid")
    assert {"bottle", "water"} <= set(nouns)
    assert "with" not in nouns


# --- synthetic goals: options as name -> value (princeton-nlp/WebShop engine/goal.py get_reward) -----------
SYNTH_GOAL = dict(GOAL, attributes=["machine wash"], goal_options={"color": "black2070", "size": "13"})


def test_reference_rule_matches_values_against_the_goals_name_value_pairs():
    # By hand, the reference's rule: purchased values colour-normalised -> ["black", "13"]; goal pairs
    # ("color", "black2070") holds no colour word as an element, so it stays a pair whose text is
    # "color black2070": token set {color, black2070} vs {black} share nothing, ratio("black",
    # "black2070 color") = 1 - 10/20 -> 50, no match; ("size", "13") -> "size 13" contains every token
    # of "13" -> 100, a match. n_option = 1 of 2; total = (1 attr + 1 option + 1 price) / (1 + 2 + 1).
    r = reward(options={"color": "black2070", "size": "13"}, goal=SYNTH_GOAL)
    assert r.n_option_matched == 1 and r.option == 0.5 and r.total == pytest.approx(3 / 4)
    fixed = purchase_reward(PRODUCT, 20.0, {"color": "black2070", "size": "13"}, SYNTH_GOAL, bought_nouns=NOUNS,
                            goal_nouns=NOUNS, option_rule="normalized")
    assert fixed.n_option_matched == 2 and fixed.option == 1.0 and fixed.total == 1.0


def test_reference_rule_reduces_a_pair_whose_value_is_exactly_a_colour_word():
    # ("color", "black") has "black" as an element, so the pair becomes "black" and matches "black".
    goal = dict(SYNTH_GOAL, goal_options={"color": "black", "size": "13"})
    assert reward(options={"color": "black", "size": "13"}, goal=goal).option == 1.0
    assert count_option_matches(["black"], [("color", "black")]) == 1
    assert count_option_matches(["black"], [("color", "black2070")]) == 0


def test_unknown_option_rule_is_an_error():
    with pytest.raises(ValueError, match="option_rule"):
        purchase_reward(PRODUCT, 20.0, {}, SYNTH_GOAL, bought_nouns=NOUNS, goal_nouns=NOUNS, option_rule="fuzzy")


def test_fuzzy_ratio_is_rounded_before_the_threshold_as_thefuzz_does():
    # One token each, so token-set ratio = indel ratio: 23 + 24 letters sharing the 20-letter prefix,
    # indel distance 3 + 4 = 7, ratio 1 - 7/47 = 85.106 -> rounds to 85, not above 85: no match.
    from turnrl.envs.webshop.reward import fuzzy_match, fuzzy_score

    a, b = "abcdefghijklmnopqrstuvw", "abcdefghijklmnopqrstxyzq"
    assert fuzzy_score(a, b) == 85 and not fuzzy_match(a, b)
    assert fuzzy_score("caf\u00e9 noir", "caf noir") == 100  # thefuzz drops characters 128-255
