"""Field constructors: many-to-one labels read as words, and the payload carries them."""

from trm_directus.model.fields import M2O, relation_label


def test_relation_label_drops_the_key_suffix_and_underscores():
    assert relation_label("class_id") == "Class"
    assert relation_label("starts_at_waypoint_id") == "Starts at waypoint"
    assert relation_label("assigned_user_id") == "Assigned user"
    assert relation_label("organization") == "Organization"


def test_m2o_payload_has_the_label_as_en_us_translation():
    derived = M2O("entries", "event_id", "events", "{{name}}").field_payload()["meta"]["translations"]
    assert derived == [{"language": "en-US", "translation": "Event"}]
    chosen = M2O("entries", "class_id", "classes", "{{code}}", label="Class (category)").field_payload()
    assert chosen["meta"]["translations"] == [{"language": "en-US", "translation": "Class (category)"}]
