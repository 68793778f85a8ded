"""The frontend: the ride-ordering page and ``/dispatch``, which asks customer, driver and route for the best car."""
