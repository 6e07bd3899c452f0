"""What routing weighs about a location (shipping cost, daily capacity, walk-in
units, service radius), given through the API. It sells nothing, so unlike the
order stories it is told once, not with plain SKUs and again with kits."""


def test_a_location_is_given_what_routing_weighs_through_the_api(api, network):
    answer = api.put(
        "/api/v1/locations/LON-CAM/",
        {
            "name": "Camden",
            "shipping_cost": "4.50",
            "daily_order_capacity": 30,
            "walk_in_buffer": 2,
            "service_radius_km": 25,
        },
        format="json",
    )
    refused = api.put(
        "/api/v1/locations/LON-CAM/",
        {"name": "Camden", "walk_in_buffer": -1},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    shown = answer.json()
    assert (
        shown["shipping_cost"],
        shown["daily_order_capacity"],
        shown["walk_in_buffer"],
        shown["service_radius_km"],
    ) == ("4.50", 30, 2, 25)
    assert refused.status_code == 400
    assert "walk_in_buffer" in refused.json()
