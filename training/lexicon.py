"""Word lists the synthetic instruction set is built from.

Why a lexicon and not free text: a tiny model trained in minutes learns a task only if the task
is stated many ways over many surface forms. These lists are the surface forms; ``tasks.py``
combines them. Keeping them apart lets the evaluation hold out whole words (see ``split``).
"""
from __future__ import annotations

import random

POSITIVE = """great wonderful excellent amazing fantastic superb brilliant delightful lovely
outstanding terrific perfect beautiful charming moving gripping hilarious stunning marvelous
enjoyable fun clever impressive solid fabulous magnificent splendid remarkable sharp exciting
heartwarming powerful refreshing smart sweet tasty delicious sturdy reliable comfortable""".split()

NEGATIVE = """terrible awful horrible dreadful boring dull bad poor disappointing mediocre weak
tedious clumsy painful ugly broken flimsy useless worthless annoying bland stale messy
pointless sloppy lifeless cheap irritating forgettable unwatchable overpriced defective
lousy atrocious miserable tiresome sour disgusting unbearable shoddy""".split()

NEUTRAL_SENTENCES = [
    "It was okay, nothing special.", "It is fine, neither good nor bad.",
    "An average {thing}, about what I expected.", "The {thing} is acceptable but unremarkable.",
    "Some parts worked and some did not.", "It was alright, I have no strong feelings.",
    "A middling {thing} with ups and downs.", "It does the job, nothing more.",
]

POS_PHRASES = [
    "I loved it", "I would happily recommend it", "worth every penny", "a must see",
    "I will buy it again", "I enjoyed every minute", "highly recommended", "five stars",
    "it exceeded my expectations", "an absolute joy", "I can't wait to see it again",
    "best purchase this year", "a triumph", "my family loved it",
]
NEG_PHRASES = [
    "I hated it", "avoid it", "a waste of money", "a waste of time", "I want a refund",
    "I regret buying it", "one star", "it fell apart after a week", "I walked out",
    "never again", "a total letdown", "I would not recommend it", "it broke on day one",
    "the worst I have seen",
]

# What happened, with no judging word in it: buyers and viewers often say only that, and a
# model that keys on adjectives alone calls such a complaint positive.
POS_EVENTS = [
    "it arrived early", "it still works after two years", "it does exactly what it says",
    "the kids play with it every day", "support answered within an hour", "it fits perfectly",
    "I use it every morning", "setup took two minutes", "the battery lasts all week",
    "I laughed the whole time", "I have watched it three times", "we ordered a second one",
    "the staff were so kind", "the food came hot and fast", "I bought one for my sister too",
    "it survived a fall down the stairs", "the colors look even better in person",
    "the story kept me hooked until the end", "my whole family uses it", "it was worth the wait",
    "it still looks new after a year", "the shop sent a thank-you note", "it works like a charm",
    "we use it every single day", "the shop replaced it for free", "it was delivered a day early",
    "my kids ask to watch it again", "it held up on a long trip", "the instructions were clear",
    "everything was packed with care",
]
NEG_EVENTS = [
    "it stopped working after two days", "it arrived damaged", "the box was empty",
    "it cracked the first time I used it", "the screen went black after a week",
    "customer service ignored my emails", "support never called back", "I had to send it back",
    "it leaked all over the floor", "the battery died within an hour", "the parts did not fit",
    "half the pieces were missing", "it smelled like burnt plastic", "the zipper came off",
    "it shrank after one wash", "the plot made no sense", "I fell asleep halfway through",
    "the food came cold", "they charged me twice", "the refund never came",
    "it snapped in half on the second use", "the store never answered my messages",
    "the handle came off within a week", "nobody from the shop got back to me",
    "it quit after three uses", "the lid never closed properly", "we returned it the next day",
    "it was dead on arrival", "my emails went unanswered", "the paint peeled off right away",
]

THINGS = """movie film book album show product phone blender jacket game beer coffee restaurant
hotel novel series play concert toaster lamp chair sandwich burger pizza laptop camera headphones
shoes backpack sequel documentary cartoon""".split()

# Nouns for "does the text mention X" and for filler sentences.
NOUNS = """dog cat horse bird fish cow pig sheep goat rabbit mouse lion tiger bear wolf fox
elephant monkey snake frog duck chicken owl eagle shark whale dolphin spider bee ant
car bus train bicycle plane boat truck motorcycle ship rocket taxi tractor
apple banana orange grape lemon cherry peach pear strawberry tomato potato carrot onion
bread cheese butter milk egg rice soup cake cookie chocolate pie salad pasta
house garden kitchen bedroom school office hospital library museum church bridge castle
park beach river mountain lake forest island desert ocean village city farm
doctor teacher nurse lawyer farmer chef pilot soldier king queen prince princess baby
guitar piano violin drum trumpet song dance painting photo poem letter newspaper
computer phone camera television radio clock watch key door window table chair bed
sword gun knife hammer rope ladder umbrella hat shirt dress coat boot glove scarf ring
rain snow storm wind sun moon star cloud fire ice money gold diamond treasure map
ghost robot alien zombie dragon wizard witch monster vampire pirate ninja cowboy detective
penguin parrot turtle camel zebra giraffe kangaroo koala panda squirrel deer moose donkey goose
swan crab lobster octopus jellyfish butterfly beetle snail worm bat hedgehog raccoon beaver otter
seal walrus hamster helicopter submarine scooter wagon canoe yacht tram subway ambulance van jeep
sled mango pineapple melon watermelon coconut plum apricot kiwi lime raspberry blueberry avocado
cucumber garlic mushroom cabbage lettuce spinach pumpkin corn bean sausage bacon ham noodle
pancake waffle muffin donut yogurt honey jam candy popcorn cereal tea juice lemonade garage attic
basement balcony hallway cellar tower lighthouse barn stable palace temple mosque cathedral
theater cinema station prison bakery pharmacy factory warehouse cottage cabin tent valley canyon
volcano glacier waterfall cave meadow swamp jungle cliff hill pond stream bay dentist engineer
plumber sailor captain artist poet judge priest banker waiter cashier janitor firefighter
astronaut professor student clown magician knight flute harp cello saxophone accordion banjo
harmonica trombone mirror candle vase pillow blanket curtain carpet sofa shelf drawer bucket
basket bottle jar cup plate spoon fork wallet purse suitcase necklace bracelet earring sock sandal
apron rainbow tornado meteor lightning hurricane giant troll goblin elf fairy mermaid ogre mummy
skeleton""".split()

FILLER = [
    "The {a} sat next to the {b}.", "We saw a {a} near the {b}.", "My friend talked about the {a} all day.",
    "There was a {a} in the story, and later a {b}.", "The {a} was bigger than the {b}.",
    "Nobody expected the {a} to show up.", "She bought a {a} and a {b} yesterday.",
    "The scene with the {a} was the highlight.", "It opens with a {a} and ends with a {b}.",
    "He kept the {a} in a box.", "A {a} appears halfway through.", "I forgot the {a} at home.",
    "The {a} and the {b} became friends.", "Every morning the {a} waits by the {b}.",
]

# Everyday notes (``tasks.note_text``), put together from parts: "mentions X" must hold in any
# sentence, not only where ``FILLER``'s fourteen shapes put a noun (E2 found held-out nouns 80%
# of the time there and 62% in such notes). ``{n}`` is a noun the note names (its subject or
# object), ``{m}`` a second one; no part is a phrase of the shipped model's checks.
NOTE_SUBJECTS = ["my {n}", "our {n}", "the {n}", "a {n}", "the old {n}", "a little {n}", "her {n}",
                 "his {n}", "the neighbor's {n}", "a huge {n}", "the new {n}", "two {ns}", "some {ns}",
                 "the {ns}", "a black {n}", "a tiny white {n}", "the noisy {n}", "that {n}",
                 "a young {n}", "grandma's {n}", "a {adj} {n}", "the {adj} {n}", "my {adj} {n}",
                 "our {adj} {n}", "two {adj} {ns}", "a {adj}, {adj2} {n}", "the {adj} old {n}",
                 "her {adj} {n}"]
NOTE_PEOPLE = ["I", "we", "my sister", "the kids", "grandpa", "everyone", "my brother", "our teacher",
               "the boss", "my aunt", "nobody", "the twins"]
NOTE_PLURAL_PEOPLE = {"we", "the kids", "the twins"}      # "the twins were", not "was"
NOTE_PREDICATES = ["slept under the {m}", "got lost", "was waiting by the {m}", "ran across the {m}",
                   "made a lot of noise", "knocked over the {m}", "hid behind the {m}",
                   "stayed in the {m} all afternoon", "jumped onto the {m}", "followed us home",
                   "was sitting on the {m}", "looked tired", "came back late", "stood next to the {m}",
                   "disappeared for an hour", "was covered in mud", "woke everyone up", "ate the {m}",
                   "watched the {m} for a while", "rolled under the {m}", "seemed happy", "went missing",
                   "was found near the {m}", "kept staring at the {m}", "fit inside the {m}",
                   "landed on the {m}", "chased the {m}", "was louder than the {m}", "sat quietly",
                   "moved closer to the {m}", "was painted green", "smelled strange",
                   "appeared in the photo", "was bigger than we thought", "needed a wash",
                   "was gone by noon", "rested by the {m}", "{v}", "{v} near the {m}", "{v} behind the {m}",
                   "{v} all night", "{v} at the {m}", "{v} and {v2}", "looked {adj}", "{v} on the {adj} {m}"]
NOTE_CLAUSES = ["we found {a} {n} in the {m}", "there was {a} {n} on the {m}", "I think I saw {a} {n} outside",
                "someone left {a} {n} by the {m}", "the kids drew {a} {n}", "we talked about the {n} for hours",
                "my sister wants {a} {n}", "grandpa told us a story about {a} {n}", "I dreamed about {a} {n}",
                "they put the {n} next to the {m}", "we could hear {a} {n} from the {m}",
                "nobody noticed the {n} until later", "we saw {a} {adj} {n} by the {m}",
                "the {n} {v} when the {m} {v2}", "someone's {adj} {n} {v}"]
# Rare words, cut into pieces as the nouns are (``train.vocabulary_texts`` keeps them out of the
# tokenizer's corpus): without them the nouns were the only words of a note in pieces, so "is X
# mentioned" could be answered by comparing X with the one word in pieces, and a sentence with
# other such words ("Ġb ark ed at the Ġm a ilm an") hid its noun (run F9).
NOTE_ADJECTIVES = """speckled grumpy enormous shaggy rusty sleepy clumsy fluffy muddy spotted striped
ancient shiny wobbly crooked gigantic scruffy polished dented faded curious stubborn nervous cheerful
filthy battered glossy tattered chubby skinny furry velvety golden lonely hungry dusty soggy greasy
fancy sturdy""".split()
NOTE_VERBS = """growled squeaked wobbled sparkled rattled snored sneezed wandered shivered tumbled
splashed wriggled scurried dozed howled giggled whimpered trembled creaked buzzed flickered sulked
yawned hiccuped vanished wiggled sniffed hummed dripped grumbled""".split()
NOTE_OPENERS = ["Yesterday", "This morning", "Last weekend", "After lunch", "On Sunday", "Later",
                "At night", "Luckily", "Somehow", "Earlier today", "In the evening", "Once again"]
NOTE_TAILS = ["again", "for a while", "all day", "before dinner", "as usual", "this time",
              "after school", "in the rain", "around midnight"]
NOTE_PLAIN = ["It rained all afternoon.", "We stayed home.", "Nobody said a word.", "The day went by fast.",
              "Everyone was tired.", "It was quiet for once.", "We laughed about it later.",
              "Then we went to bed.", "That was the whole story.", "I still think about it.",
              "Nobody knows why.", "It took a long time."]

CATEGORIES = {
    "kitchen": """frying pan|saucepan|chef knife|cutting board|blender|toaster|kettle|coffee maker|
mixing bowl|spatula|whisk|measuring cups|can opener|cookware set|dish rack|rolling pin|colander|
stand mixer|food processor|baking sheet|oven mitts|ladle|peeler|cast iron skillet|rice cooker|
wok|teapot|dinner plates|wine glasses|cheese grater|knife block|microwave|slow cooker|
salad spinner|pepper grinder|tongs|mug set|lunch box|ice cube tray|pizza cutter""",
    "garden": """garden hose|lawn mower|rake|shovel|pruning shears|flower pot|watering can|
seed starter kit|leaf blower|wheelbarrow|garden gloves|hedge trimmer|bird feeder|sprinkler|
compost bin|trowel|plant food|patio umbrella|weed killer|planter box|garden gnome|fence panel|
raised bed|tomato cage|hose reel""",
    "electronics": """laptop|smartphone|headphones|bluetooth speaker|usb cable|phone charger|
tablet|smart watch|wireless mouse|keyboard|monitor|webcam|hard drive|memory card|router|
television|game console|earbuds|power bank|digital camera|microphone|printer|hdmi cable|
e-reader|drone|projector|sound bar|graphics card""",
    "clothing": """t-shirt|jeans|winter jacket|dress|sweater|socks|hoodie|scarf|baseball cap|
leather belt|running shorts|raincoat|pajamas|wool hat|blouse|skirt|suit jacket|tank top|
leggings|denim jacket|swim trunks|cardigan|polo shirt|gloves|overalls""",
    "toys": """teddy bear|building blocks|toy car|jigsaw puzzle|doll house|action figure|
board game|yo-yo|kite|toy train|plush unicorn|water gun|stuffed animal|play dough|toy robot|
marbles|rubber duck|puppet|spinning top|toy drum|dollhouse furniture|race car set|
magic kit|rocking horse|bubble wand""",
    "sports": """tennis racket|basketball|soccer ball|yoga mat|dumbbells|running shoes|
golf clubs|baseball glove|bicycle helmet|swim goggles|jump rope|hockey stick|boxing gloves|
skateboard|ski poles|climbing rope|resistance bands|volleyball|ping pong paddle|fishing rod|
exercise bike|football|kettlebell|surfboard|shin guards""",
    "beauty": """lipstick|shampoo|face cream|nail polish|perfume|hair dryer|mascara|
conditioner|sunscreen|makeup brush|body lotion|eyeliner|hair straightener|face mask|
lip balm|cologne|curling iron|foundation|hand cream|bath bombs|razor|toothbrush|
hair gel|deodorant|eye shadow""",
    "office": """stapler|printer paper|ballpoint pens|notebook|desk lamp|file folders|
sticky notes|paper clips|desk organizer|highlighters|calculator|envelopes|whiteboard|
office chair|binder|tape dispenser|scissors|label maker|mouse pad|desk calendar|pencil sharpener|
letter tray|rubber bands|push pins|clipboard""",
}
CATEGORY_WORDS = {c: [w.strip() for w in v.replace("\n", "").split("|")] for c, v in CATEGORIES.items()}

# Synonyms a user may write for a category ("Is the product a kitchen item?").
CATEGORY_NAMES = {
    "kitchen": ["kitchen item", "kitchen product", "kitchen tool", "cooking item", "kitchenware item"],
    "garden": ["garden item", "gardening product", "garden tool", "outdoor garden item"],
    "electronics": ["electronic device", "piece of electronics", "gadget", "electronics item"],
    "clothing": ["piece of clothing", "clothing item", "garment", "apparel item"],
    "toys": ["toy", "toy for kids", "children's toy", "plaything"],
    "sports": ["sports item", "piece of sports equipment", "fitness item", "sporting good"],
    "beauty": ["beauty product", "cosmetic", "personal care product", "beauty item"],
    "office": ["office supply", "office item", "stationery item", "office product"],
}

PRODUCT_MODIFIERS = """stainless steel|non-stick|compact|deluxe|premium|lightweight|heavy duty|
portable|large|small|blue|black|red|green|white|wooden|plastic|ceramic|cotton|leather|
professional|classic|modern|vintage|2-pack|set of 3|extra large|mini|foldable|waterproof""".replace(
    "\n", "").split("|")

# Never a word of a category's name: with "for kids" and "for the office" among them (run X),
# a kitchen item could say "kids" or "office", and the runs answered "yes" to "is it a kitchen
# item" for every toy; without them (run Z) they did not.
PRODUCT_SUFFIXES = """for adults|for men|for women|for beginners|for travel|with case|with lid|
pack of 2|2 pack""".replace("\n", "").split("|")

BRANDS = """Acme Zenith Orbit Nova Pioneer Summit Apex Vertex Harbor Maple Cedar Falcon Atlas
Lumen Kestrel Willow Granite Comet Echo Polar Sterling Juniper""".split()

TOPICS = {
    "sports": """team match goal coach season player league score championship stadium referee
tournament win defeat pitch striker goalkeeper""".split(),
    "politics": """election senator vote parliament president government policy campaign law
minister congress debate party ballot mayor reform""".split(),
    "technology": """software computer app internet startup chip robot algorithm smartphone
data cloud code programmer device server update""".split(),
    "food": """recipe restaurant chef dinner flavor dish bake kitchen soup spicy sauce
menu dessert meal ingredients lunch""".split(),
    "music": """album band concert song singer guitar melody lyrics tour drummer chorus
orchestra record playlist rhythm stage""".split(),
    "travel": """flight hotel trip passport beach tourist airport journey luggage vacation
island cruise destination map tour visa""".split(),
    "health": """doctor hospital medicine patient exercise diet vaccine symptoms nurse
therapy sleep clinic illness treatment fitness vitamins""".split(),
    "science": """experiment laboratory physics chemistry scientist research theory molecule
telescope biology discovery planet atom study evidence""".split(),
    "business": """company market profit shares investor revenue stock bank merger
economy sales customer price deal quarter budget""".split(),
    "weather": """rain forecast storm sunny temperature snow wind cloudy humidity thunder
frost heatwave drizzle flood degrees fog""".split(),
}
TOPIC_TEMPLATES = [
    "The {a} and the {b} made headlines this week.", "Yesterday's {a} was all about the {b}.",
    "Everyone is talking about the {a} after the {b}.", "A new {a} changed how we think about the {b}.",
    "Local news: the {a} surprised people, and the {b} followed.", "Experts say the {a} matters more than the {b}.",
    "Our report covers the {a}, the {b} and the {c}.", "Before the {a}, nobody cared about the {b}.",
]

FIRST_NAMES = """Alice Bob Carol David Emma Frank Grace Henry Isabel Jack Karen Leo Maria Nathan
Olivia Peter Quinn Rachel Samuel Tara Umar Victor Wendy Xavier Yusuf Zoe Amir Bianca Carlos Diana
Elena Felix Gina Hugo Ines Jonas Kenji Lena Marco Nina Oscar Priya Rosa Stefan Tomas Ursula Vera
Walter Yara Ahmed Beatriz Chen Dmitri Fatima Giorgio Hana Igor Julia Kofi Lucia Mateo Noor Pablo
Sofia Theo Ana Ben Clara Daniel Eva George Hannah Ivan Jasmine Kevin Laura Mike Nadia Omar Paula
Ravi Sara Tim Vivian William
Aaron Abigail Adam Adrian Aisha Alan Albert Alex Alicia Amelia Andrea Andrew Angela Anna Anthony
Arjun Arthur Astrid Aurora Barbara Bruno Caleb Camila Catherine Charles Charlotte Chloe
Christopher Claire Damian Dario Deepak Dylan Edgar Edward Eleanor Elias Elif Emil Emily Emir Eric
Erik Esther Ethan Fabio Fernando Fiona Francesca Gabriel Gustav Harry Hector Helen Ingrid Irene
Isaac Jamal Javier Jessica Joanna Joel John Jorge Joseph Joyce Juan Julian Kai Karim Katarina
Kwame Lars Layla Leila Liam Lily Linda Lorenzo Louis Lucas Luis Luka Magnus Malik Marcus Margaret
Marta Mei Mia Michael Miguel Mila Mohammed Monica Naomi Nicolas Nikolai Nora Olga Pedro Petra
Rafael Ramon Rebecca Ricardo Robert Roman Ruby Ryan Saanvi Salma Samir Sarah Sean Selin Sergio
Simon Sonia Stella Susan Tariq Teresa Valentina Vikram Wei Yuki Zainab Zara Ada Aiko Anya Bao
Chidi Dina Femi Goran Hiro Ilse Jin Kasia Lotte Mariam Nils Oren Pia Rania Sven Tomoko Uma Vlad
Wim Yosef Zeynep""".split()
LAST_NAMES = """Smith Jones Garcia Chen Patel Kim Nguyen Müller Rossi Silva Novak Khan Brown
Lopez Wilson Tanaka Ivanova Dubois Larsen Cohen Okafor Costa Martin Walker Hughes Moreau Becker
Fischer Romano Sato Reyes Haddad Berg Lindqvist Mendes Park Singh Weber Ortiz Murphy Quinn
Anderson Thomas Jackson Harris Clark Lewis Robinson Young Allen Wright Scott Baker Adams Nelson
Campbell Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins Edwards Stewart
Morris Rogers Reed Cook Morgan Bell Bailey Rivera Cooper Richardson Cox Howard Ward Peterson
Ramirez Watson Brooks Kelly Sanders Bennett Barnes Ross Henderson Coleman Jenkins Perry Powell
Patterson Flores Butler Simmons Foster Gonzales Bryant Russell Griffin Diaz Hayes Myers Ford
Hamilton Graham Sullivan Wallace Cole Owens Reynolds Fisher Ellis Harrison Gibson McDonald Cruz
Marshall Gomez Murray Freeman Wells Webb Simpson Stevens Tucker Hunter Hicks Crawford Boyd Mason
Kennedy Warren Dixon Ramos Burns Gordon Shaw Holmes Robertson Hunt Daniels Palmer Mills Nichols
Grant Ferguson Hawkins Dunn Perkins Hudson Spencer Gardner Stephens Payne Pierce Matthews Arnold
Wagner Willis Watkins Olson Carroll Duncan Snyder Cunningham Bradley Andrews Harper Riley
Armstrong Carpenter Weaver Lawrence Elliott Chavez Kelley Franklin Lawson Schmidt Schneider Meyer
Schulz Hoffmann Koch Bauer Richter Neumann Zimmermann Braun Hartmann Krause Lehmann Fuchs Jensen
Nielsen Hansen Pedersen Andersen Johansson Karlsson Nilsson Eriksson Olsen Virtanen Korhonen
Nieminen Kowalski Nowak Wisniewski Wojcik Kaminski Lewandowski Horvath Kovacs Szabo Toth Popescu
Ionescu Petrov Sokolov Volkov Kuznetsov Lebedev Kozlov Morozov Yilmaz Kaya Demir Sahin Celik
Ozturk Aydin Arslan Dogan Suzuki Takahashi Watanabe Yamamoto Nakamura Kobayashi Kato Yoshida
Yamada Sasaki Matsumoto Inoue Kimura Hayashi Shimizu Yamazaki Ikeda Hashimoto Wang Zhang Liu Yang
Huang Zhao Zhou Choi Jung Kang Yoon Jang Kwon Hwang Tran Pham Hoang Phan Dang Bui Ngo Duong Sharma
Gupta Kumar Reddy Iyer Nair Menon Rao Bose Mehta Shah Joshi Desai Kapoor Malhotra Chopra Banerjee
Mukherjee Hussain Rahman Hassan Ibrahim Mahmoud Mansour Nasser Saleh Khalil Aziz Mensah Owusu
Boateng Adeyemi Okonkwo Nwosu Balogun Kamau Mwangi Otieno Njoroge Dlamini Nkosi Ndlovu Mokoena
Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Gomes Ribeiro Carvalho Almeida Barbosa
Rocha Teixeira Fernandes Sousa Hernandez Gonzalez Perez Sanchez Castillo Jimenez Vargas Romero
Alvarez Ruiz""".split()

CITIES = """Paris London Tokyo Berlin Madrid Rome Lisbon Vienna Prague Dublin Oslo Boston Chicago
Toronto Sydney Cairo Mumbai Seoul Lima Nairobi Athens Warsaw Zurich Denver Austin Seattle Miami
Istanbul Bangkok Manila Havana Dakar Helsinki Geneva Milan Porto Kyoto Osaka Delhi Quito
Amsterdam Antwerp Barcelona Valencia Seville Naples Venice Turin Munich Hamburg Frankfurt
Stuttgart Dresden Leipzig Krakow Gdansk Budapest Bucharest Belgrade Zagreb Ljubljana Bratislava
Tallinn Riga Vilnius Minsk Kyiv Odessa Moscow Tbilisi Yerevan Baku Ankara Izmir Beirut Amman
Jerusalem Tehran Baghdad Riyadh Jeddah Doha Dubai Muscat Karachi Lahore Kabul Dhaka Kolkata
Chennai Bangalore Hyderabad Pune Jaipur Kathmandu Colombo Yangon Hanoi Vientiane Jakarta Surabaya
Singapore Taipei Shanghai Beijing Shenzhen Guangzhou Wuhan Chengdu Nanjing Busan Nagoya Sapporo
Fukuoka Melbourne Brisbane Perth Adelaide Auckland Wellington Christchurch Honolulu Anchorage
Vancouver Calgary Edmonton Winnipeg Ottawa Montreal Quebec Halifax Detroit Cleveland Pittsburgh
Philadelphia Baltimore Atlanta Nashville Memphis Dallas Houston Phoenix Tucson Portland Sacramento
Oakland Minneapolis Milwaukee Omaha Tampa Orlando Richmond Buffalo Albany Hartford Providence
Valparaiso Cordoba Montevideo Asuncion Bogota Medellin Caracas Maracaibo Guayaquil Cusco Arequipa
Recife Fortaleza Brasilia Curitiba Manaus Belem Monterrey Guadalajara Tijuana Cancun Oaxaca Puebla
Tegucigalpa Managua Kingston Nassau Lagos Abuja Accra Kumasi Lome Cotonou Bamako Niamey Khartoum
Mombasa Kampala Kigali Lusaka Harare Maputo Luanda Windhoek Durban Pretoria Johannesburg
Casablanca Marrakesh Rabat Tunis Algiers Tripoli Alexandria Luxor Reykjavik Bergen Gothenburg
Malmo Aarhus Tampere Turku Rotterdam Utrecht Eindhoven Ghent Bruges Luxembourg Strasbourg Lyon
Marseille Toulouse Bordeaux Nantes Lille Basel Bern Lausanne Salzburg Innsbruck Graz Bologna Genoa
Palermo Verona Pisa Granada Bilbao Malaga Zaragoza Coimbra Braga Edinburgh Glasgow Manchester
Liverpool Leeds Bristol Cardiff Belfast Cork Galway Aberdeen Oxford Cambridge York""".split()

COLORS = "red blue green yellow black white orange purple pink brown gray silver gold beige".split()

GENRES = """Comedy Drama Horror Action Romance Thriller Documentary Animation Western Musical
Fantasy Mystery Adventure Crime""".split()


ONSETS = "b c d f g h j k l m n p r s t v z br ch dr fl gr kl pr sh st tr".split()
VOWELS = "a e i o u a e i o ai ou ea".split()
CODAS = ["", "", "", "n", "r", "l", "s", "m", "nd", "rt", "sk", "x"]


def invented_words(rng: random.Random, n: int, avoid: set[str], capitalize: bool,
                   sources: list[str] = ()) -> list[str]:
    """``n`` distinct non-words (``velmora``, ``Kandris``, ``Samueen``), none in ``avoid``.

    Why: with a few dozen real names in training, a small model memorizes the names instead of
    learning to copy; invented words, cut by the tokenizer into arbitrary pieces, leave it no
    way to answer but to copy (or to match, for "does the text mention X") whatever it is shown.
    Half are syllable words; the other half are spliced from the head of one ``sources`` word
    and the tail of another. Syllables alone come from a small inventory, so the model learned
    to guess a name's next syllable and copies of real names drifted after their first piece
    (``Athens`` -> ``Aho``); spliced words are made of the pieces real words tokenize into.
    """
    out: dict[str, None] = {}
    pieces = [w.lower() for w in sources if len(w) >= 4]
    while len(out) < n:
        if pieces and len(out) % 2:
            a, b = rng.sample(pieces, 2)
            word = a[:rng.randint(2, len(a) - 1)] + b[rng.randint(1, len(b) - 2):]
        else:
            word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(rng.choice([1, 2, 2, 3])))
            word += rng.choice(CODAS)
        if 3 <= len(word) <= 12 and word.isalpha() and word not in avoid:
            out[word.capitalize() if capitalize else word] = None
    return list(out)
