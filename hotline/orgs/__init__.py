"""Organisations (组织): the city's 12351 centre at the root, county, district and industry unions below it."""
