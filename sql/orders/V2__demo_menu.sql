-- The demo menu: 25 items over every category and station, with fixed ids so that examples and
-- tests can name them. "Seasonal Special" is unavailable, to show what ordering it does.
INSERT INTO orders.menu_items (id, name, description, category, price_cents, available, station, prep_minutes, position) VALUES
    ('638386e1-c6f9-5a21-aeb8-bd1f0a70e77d', 'Garlic Bread', 'Toasted sourdough, garlic butter, parsley', 'STARTER', 550, true, 'grill', 6, 10),
    ('22dbe406-f0e4-5f0b-ba15-e2f11a0a2489', 'Tomato Bruschetta', 'Heirloom tomatoes, basil, olive oil on grilled bread', 'STARTER', 650, true, 'cold', 7, 20),
    ('50103612-1252-54c5-bca4-df99b1fa27e2', 'Crispy Calamari', 'Lightly fried squid, lemon aioli', 'STARTER', 950, true, 'fry', 9, 30),
    ('0228916d-5456-5a4d-8fd5-a0ef5ed5b86e', 'Burrata', 'Burrata, roasted peppers, pesto', 'STARTER', 1150, true, 'cold', 5, 40),
    ('bd33ab12-3072-5ec6-b71a-e16d7899322d', 'Chicken Wings', 'Six wings, smoked chilli glaze', 'STARTER', 990, true, 'fry', 12, 50),
    ('ed566d8a-b203-5efc-b429-4c8a1d447c08', 'Classic Cheeseburger', 'Beef patty, cheddar, pickles, brioche bun', 'MAIN', 1450, true, 'grill', 14, 60),
    ('a3d6025d-2021-5633-91f0-150ce2b03187', 'Margherita Pizza', 'San Marzano tomato, mozzarella, basil', 'MAIN', 1300, true, 'oven', 12, 70),
    ('c369e49d-8dd6-58ec-a445-7d035d388176', 'Grilled Salmon', 'Salmon fillet, lemon butter, greens', 'MAIN', 2150, true, 'grill', 16, 80),
    ('1825ec22-46f1-59d4-9bd6-ed2729287563', 'Mushroom Risotto', 'Arborio rice, porcini, parmesan', 'MAIN', 1650, true, 'stove', 20, 90),
    ('e8e7d4ea-2b60-59a4-9a35-b0d67ccb9894', 'Steak Frites', 'Sirloin, herb butter, fries', 'MAIN', 2650, true, 'grill', 18, 100),
    ('4b0a161e-5b7d-5ca6-ac96-c945f498bb43', 'Vegan Buddha Bowl', 'Quinoa, roast squash, chickpeas, tahini', 'MAIN', 1450, true, 'cold', 10, 110),
    ('8db75f56-a118-51d8-9b42-45c6e04499cc', 'Fish and Chips', 'Beer-battered cod, mushy peas, tartare', 'MAIN', 1750, true, 'fry', 15, 120),
    ('82e8b4b0-f552-59fb-b2e1-c1117115527c', 'French Fries', 'Skin-on fries, sea salt', 'SIDE', 450, true, 'fry', 6, 130),
    ('f07d7728-05c2-554d-bf2b-106b348c2871', 'Side Salad', 'Mixed leaves, vinaigrette', 'SIDE', 450, true, 'cold', 3, 140),
    ('d48a02dd-77ad-57c1-8865-b49781346329', 'Onion Rings', 'Beer-battered onion rings', 'SIDE', 500, true, 'fry', 7, 150),
    ('490e45b7-4256-51ce-92bd-a6029932514c', 'Mac and Cheese', 'Three-cheese macaroni, crumb top', 'SIDE', 650, true, 'oven', 10, 160),
    ('13f0abb1-fcc5-5f15-b4b1-c9ce71395025', 'Tiramisu', 'Mascarpone, espresso, cocoa', 'DESSERT', 750, true, 'pastry', 3, 170),
    ('bbbbece6-60d4-51e2-88a3-7d1223e0dbcb', 'Chocolate Lava Cake', 'Warm chocolate cake, vanilla ice cream', 'DESSERT', 850, true, 'pastry', 12, 180),
    ('8e3c5abd-f3b2-5e0b-91f6-18f49c57816c', 'Lemon Tart', 'Shortcrust, lemon curd, crème fraîche', 'DESSERT', 700, true, 'pastry', 3, 190),
    ('9a5cd95a-e9a9-5bdb-9e24-e1ea2265dfab', 'Affogato', 'Vanilla gelato drowned in espresso', 'DESSERT', 550, true, 'bar', 3, 200),
    ('d358d6bd-36ec-56a9-991b-3366c60fcd9c', 'Lemonade', 'Fresh lemonade, mint', 'DRINK', 400, true, 'bar', 2, 210),
    ('f8ba1b53-250e-5094-8659-3ca162dde94d', 'Espresso', 'Double shot', 'DRINK', 300, true, 'bar', 2, 220),
    ('88564d36-2c7a-5b73-9d6d-0426da62c7f9', 'Iced Tea', 'Black tea, peach', 'DRINK', 380, true, 'bar', 2, 230),
    ('2796b51b-ca7d-50fb-b230-54568d78e668', 'Sparkling Water', '500 ml', 'DRINK', 300, true, 'bar', 1, 240),
    ('f1961899-b311-52ec-8a5d-3ea1039f5c5f', 'Seasonal Special', 'Ask your server: changes weekly', 'MAIN', 1900, false, 'stove', 20, 250)
ON CONFLICT (id) DO NOTHING;
