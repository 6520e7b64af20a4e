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
