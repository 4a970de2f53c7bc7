//! Static tables the generator draws from: names, places, departments, titles.
//! Every address, phone number and domain is fictional (`.example` domains,
//! 555-01xx and other numbers set aside for drama where they exist).
//!
// size: static data tables (names, places, titles), no logic; splitting them by table
// would only scatter what the generator reads together.

/// A naming culture: given names by sex, family names, and a language.
pub(crate) struct Culture {
    pub weight: u32,
    pub male: &'static [&'static str],
    pub female: &'static [&'static str],
    pub family: &'static [&'static str],
    pub language: &'static str,
    /// Countries (ISO-2) where this culture is the local one.
    pub home: &'static [&'static str],
}

pub(crate) const CULTURES: &[Culture] = &[
    Culture {
        weight: 38,
        male: &[
            "James",
            "Liam",
            "Noah",
            "William",
            "Benjamin",
            "Ethan",
            "Henry",
            "Oliver",
            "Jack",
            "Samuel",
            "Michael",
            "Daniel",
            "Robert",
            "Christopher",
            "Matthew",
            "Andrew",
            "Thomas",
            "Joshua",
            "Ryan",
            "Nathan",
        ],
        female: &[
            "Mary",
            "Olivia",
            "Emma",
            "Ava",
            "Sophia",
            "Charlotte",
            "Amelia",
            "Harper",
            "Zoë",
            "Elizabeth",
            "Margaret",
            "Emily",
            "Grace",
            "Hannah",
            "Abigail",
            "Chloe",
            "Madison",
            "Katherine",
            "Rebecca",
            "Jennifer",
        ],
        family: &[
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "White", "Harris",
            "Clark", "Lewis", "Walker", "Young", "O'Brien", "Clarke", "Murphy", "Kelly",
            "Campbell", "Stewart", "Bennett", "Hughes",
        ],
        language: "English",
        home: &["US", "GB", "CA", "AU"],
    },
    Culture {
        weight: 15,
        male: &[
            "José",
            "Juan",
            "Mateo",
            "Diego",
            "Alejandro",
            "Andrés",
            "Luis",
            "Carlos",
            "Javier",
            "Santiago",
            "Miguel",
            "Emiliano",
        ],
        female: &[
            "María",
            "Sofía",
            "Lucía",
            "Valentina",
            "Camila",
            "Ximena",
            "Isabella",
            "Gabriela",
            "Daniela",
            "Mariana",
            "Renata",
            "Guadalupe",
        ],
        family: &[
            "García",
            "Rodríguez",
            "Martínez",
            "Hernández",
            "López",
            "González",
            "Pérez",
            "Sánchez",
            "Ramírez",
            "Torres",
            "Flores",
            "Núñez",
            "Gómez",
            "Díaz",
            "Cruz",
            "Morales",
            "de la Cruz",
        ],
        language: "Spanish",
        home: &["MX"],
    },
    Culture {
        weight: 8,
        male: &[
            "Aarav", "Rohan", "Vikram", "Arjun", "Ishaan", "Rahul", "Aditya", "Sanjay", "Karthik",
        ],
        female: &[
            "Priya",
            "Ananya",
            "Diya",
            "Kavya",
            "Meera",
            "Lakshmi",
            "Aishwarya",
            "Neha",
            "Pooja",
        ],
        family: &[
            "Patel",
            "Sharma",
            "Singh",
            "Kumar",
            "Gupta",
            "Reddy",
            "Iyer",
            "Nair",
            "Chatterjee",
            "Desai",
            "Mehta",
            "Rao",
        ],
        language: "Hindi",
        home: &["IN"],
    },
    Culture {
        weight: 7,
        male: &["Wei", "Hao", "Jun", "Lei", "Ming", "Zhiwei", "Jian"],
        female: &["Jing", "Li Na", "Xin", "Mei", "Yan", "Xiaoling", "Fang"],
        family: &[
            "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
        ],
        language: "Mandarin",
        home: &[],
    },
    Culture {
        weight: 4,
        male: &["Minh", "Huy", "Quang", "Dũng", "Tuấn", "Khoa"],
        female: &["Linh", "Anh", "Thảo", "Phương", "Trang", "Ngọc"],
        family: &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"],
        language: "Vietnamese",
        home: &[],
    },
    Culture {
        weight: 4,
        male: &[
            "Lukas",
            "Jürgen",
            "Maximilian",
            "Felix",
            "Jörg",
            "Tobias",
            "Stefan",
            "Niklas",
        ],
        female: &[
            "Anna",
            "Lena",
            "Sophie",
            "Katharina",
            "Jana",
            "Mia",
            "Lea",
            "Franziska",
        ],
        family: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schäfer",
            "Köhler",
            "Hoffmann",
            "Groß",
        ],
        language: "German",
        home: &["DE"],
    },
    Culture {
        weight: 4,
        male: &[
            "Louis", "Gabriel", "Hugo", "Théo", "Raphaël", "Mathis", "Étienne", "Jean-Luc",
        ],
        female: &[
            "Léa", "Chloé", "Camille", "Inès", "Manon", "Élodie", "Margaux", "Anaïs",
        ],
        family: &[
            "Martin", "Bernard", "Dubois", "Robert", "Richard", "Petit", "Durand", "Lefèvre",
            "Moreau", "Lefebvre", "Girard", "Tremblay", "Gagnon",
        ],
        language: "French",
        home: &["FR", "CA"],
    },
    Culture {
        weight: 3,
        male: &[
            "Łukasz",
            "Piotr",
            "Krzysztof",
            "Wojciech",
            "Tomasz",
            "Paweł",
            "Michał",
        ],
        female: &[
            "Agnieszka",
            "Katarzyna",
            "Małgorzata",
            "Zofia",
            "Joanna",
            "Magdalena",
        ],
        family: &[
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
        ],
        language: "Polish",
        home: &[],
    },
    Culture {
        weight: 3,
        male: &[
            "Søren", "Mads", "Björn", "Lars", "Anders", "Mikkel", "Jørgen",
        ],
        female: &[
            "Freja", "Ingrid", "Åsa", "Sigrid", "Astrid", "Maja", "Karin",
        ],
        family: &[
            "Jensen",
            "Nielsen",
            "Hansen",
            "Andersen",
            "Pedersen",
            "Johansson",
            "Lindqvist",
            "Østergaard",
            "Sørensen",
        ],
        language: "Danish",
        home: &[],
    },
    Culture {
        weight: 4,
        male: &["Omar", "Youssef", "Karim", "Tariq", "Hassan", "Sami"],
        female: &["Layla", "Fatima", "Nour", "Yasmin", "Rania", "Huda"],
        family: &[
            "Haddad", "Khoury", "Mansour", "Saleh", "Nasser", "Aziz", "Hamdan",
        ],
        language: "Arabic",
        home: &[],
    },
    Culture {
        weight: 4,
        male: &["Chinedu", "Oluwaseun", "Emeka", "Tunde", "Obinna", "Kwame"],
        female: &["Ngozi", "Adaeze", "Chiamaka", "Folake", "Amara", "Yetunde"],
        family: &[
            "Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Mensah", "Adebayo",
        ],
        language: "Yoruba",
        home: &[],
    },
    Culture {
        weight: 3,
        male: &["Haruto", "Sota", "Ren", "Takumi", "Kenji", "Hiroshi"],
        female: &["Yui", "Aoi", "Hina", "Sakura", "Yuki", "Emi"],
        family: &[
            "Sato",
            "Suzuki",
            "Takahashi",
            "Tanaka",
            "Watanabe",
            "Itō",
            "Yamamoto",
        ],
        language: "Japanese",
        home: &[],
    },
    Culture {
        weight: 3,
        male: &["João", "Pedro", "Rafael", "Thiago", "Gonçalo"],
        female: &["Beatriz", "Mariana", "Inês", "Larissa", "Conceição"],
        family: &[
            "Silva",
            "Santos",
            "Oliveira",
            "Souza",
            "Ferreira",
            "Araújo",
            "Magalhães",
        ],
        language: "Portuguese",
        home: &[],
    },
];

/// Given name → usual short form used as a preferred name.
pub(crate) const NICKNAMES: &[(&str, &str)] = &[
    ("William", "Will"),
    ("Benjamin", "Ben"),
    ("Alejandro", "Alex"),
    ("Katarzyna", "Kasia"),
    ("Maximilian", "Max"),
    ("Elizabeth", "Liz"),
    ("Robert", "Bob"),
    ("Krzysztof", "Chris"),
    ("Oluwaseun", "Seun"),
    ("Wojciech", "Wojtek"),
    ("Margaret", "Maggie"),
    ("Michael", "Mike"),
    ("Christopher", "Chris"),
    ("Katherine", "Kate"),
    ("Jennifer", "Jen"),
    ("Samuel", "Sam"),
    ("Daniel", "Dan"),
    ("Matthew", "Matt"),
    ("Andrew", "Drew"),
    ("Thomas", "Tom"),
    ("Abigail", "Abby"),
    ("Guadalupe", "Lupita"),
    ("Franziska", "Franzi"),
    ("Aishwarya", "Ash"),
    ("Małgorzata", "Gosia"),
    ("Santiago", "Santi"),
    ("Gabriela", "Gaby"),
    ("Magdalena", "Magda"),
    ("Xiaoling", "Ling"),
];

pub(crate) const COMPANY_NAMES: &[&str] = &[
    "Northwind Trading",
    "Bluebird Analytics",
    "Cobalt Harbor",
    "Juniper Fields",
    "Lumen & Loom",
    "Tidewater Labs",
    "Copperline Logistics",
    "Saffron Street Foods",
];

pub(crate) const PERSONAL_DOMAINS: &[&str] = &[
    "mail.example",
    "inbox.example",
    "post.example",
    "webmail.example",
    "home.example",
];

/// A city: name, state/province (empty where countries have none), postal code
/// pattern (`#` digit, `@` letter), and the office whose metro it is in.
pub(crate) struct City {
    pub name: &'static str,
    pub state: &'static str,
    pub postal: &'static str,
    pub office: Option<&'static str>,
}

const fn city(
    name: &'static str,
    state: &'static str,
    postal: &'static str,
    office: Option<&'static str>,
) -> City {
    City {
        name,
        state,
        postal,
        office,
    }
}

/// A country: code, cities, streets, whether the house number follows the street,
/// phone pattern, and weight among non-US countries.
pub(crate) struct Country {
    pub code: &'static str,
    pub cities: &'static [City],
    pub streets: &'static [&'static str],
    pub number_after_street: bool,
    pub phone: &'static str,
    pub weight: u32,
    pub unit_prefix: &'static str,
}

pub(crate) const US: Country = Country {
    code: "US",
    cities: &[
        city("New York", "NY", "100##", Some("off_nyc")),
        city("Brooklyn", "NY", "112##", Some("off_nyc")),
        city("Jersey City", "NJ", "073##", Some("off_nyc")),
        city("Hoboken", "NJ", "07030", Some("off_nyc")),
        city("San Francisco", "CA", "941##", Some("off_sf")),
        city("Oakland", "CA", "946##", Some("off_sf")),
        city("Berkeley", "CA", "947##", Some("off_sf")),
        city("Austin", "TX", "787##", Some("off_aus")),
        city("Round Rock", "TX", "786##", Some("off_aus")),
        city("Chicago", "IL", "606##", Some("off_chi")),
        city("Evanston", "IL", "602##", Some("off_chi")),
        city("Seattle", "WA", "981##", None),
        city("Denver", "CO", "802##", None),
        city("Boston", "MA", "021##", None),
        city("Atlanta", "GA", "303##", None),
        city("Portland", "OR", "972##", None),
        city("Minneapolis", "MN", "554##", None),
        city("Miami", "FL", "331##", None),
        city("Phoenix", "AZ", "850##", None),
        city("Raleigh", "NC", "276##", None),
        city("Philadelphia", "PA", "191##", None),
        city("Salt Lake City", "UT", "841##", None),
        city("Nashville", "TN", "372##", None),
    ],
    streets: &[
        "Main St",
        "Oak Ave",
        "Maple Dr",
        "Broadway",
        "Elm St",
        "Cedar Ln",
        "Park Ave",
        "Washington St",
        "Lake Shore Dr",
        "Pine St",
        "Sunset Blvd",
        "Hillside Ave",
    ],
    number_after_street: false,
    phone: "+1@@@55501##",
    weight: 0,
    unit_prefix: "Apt ",
};

pub(crate) const INTERNATIONAL: &[Country] = &[
    Country {
        code: "GB",
        cities: &[
            city("London", "", "E# #@@", Some("off_lon")),
            city("London", "", "N# #@@", Some("off_lon")),
            city("London", "", "SE# #@@", Some("off_lon")),
            city("Manchester", "", "M# #@@", None),
            city("Edinburgh", "", "EH# #@@", None),
            city("Bristol", "", "BS# #@@", None),
            city("Leeds", "", "LS# #@@", None),
        ],
        streets: &[
            "High Street",
            "Station Road",
            "Church Lane",
            "Victoria Road",
            "Mill Lane",
            "King's Road",
        ],
        number_after_street: false,
        phone: "+447700900###",
        weight: 22,
        unit_prefix: "Flat ",
    },
    Country {
        code: "CA",
        cities: &[
            city("Toronto", "ON", "M5V #@#", Some("off_tor")),
            city("Toronto", "ON", "M4W #@#", Some("off_tor")),
            city("Vancouver", "BC", "V6B #@#", None),
            city("Montréal", "QC", "H2X #@#", None),
            city("Calgary", "AB", "T2P #@#", None),
            city("Ottawa", "ON", "K1P #@#", None),
        ],
        streets: &[
            "King Street West",
            "Queen Street East",
            "Rue Sainte-Catherine",
            "Granville Street",
            "Yonge Street",
            "Rue Saint-Denis",
        ],
        number_after_street: false,
        phone: "+141655501##",
        weight: 18,
        unit_prefix: "Unit ",
    },
    Country {
        code: "DE",
        cities: &[
            city("Berlin", "", "101##", None),
            city("München", "", "803##", None),
            city("Hamburg", "", "200##", None),
            city("Köln", "", "506##", None),
            city("Frankfurt am Main", "", "603##", None),
        ],
        streets: &[
            "Hauptstraße",
            "Bahnhofstraße",
            "Gartenweg",
            "Schillerstraße",
            "Goethestraße",
            "Lindenallee",
        ],
        number_after_street: true,
        phone: "+4915550######",
        weight: 15,
        unit_prefix: "Wohnung ",
    },
    Country {
        code: "FR",
        cities: &[
            city("Paris", "", "7500#", None),
            city("Lyon", "", "6900#", None),
            city("Marseille", "", "1300#", None),
            city("Toulouse", "", "31000", None),
            city("Nantes", "", "44000", None),
        ],
        streets: &[
            "Rue de la Paix",
            "Avenue des Champs-Élysées",
            "Rue Victor Hugo",
            "Boulevard Saint-Germain",
            "Rue de Rivoli",
            "Place Bellecour",
        ],
        number_after_street: false,
        phone: "+3363998####",
        weight: 12,
        unit_prefix: "Appartement ",
    },
    Country {
        code: "MX",
        cities: &[
            city("Ciudad de México", "CDMX", "067##", None),
            city("Guadalajara", "JAL", "441##", None),
            city("Monterrey", "NL", "640##", None),
            city("Puebla", "PUE", "720##", None),
        ],
        streets: &[
            "Avenida Reforma",
            "Calle Hidalgo",
            "Avenida Juárez",
            "Calle Morelos",
            "Avenida Insurgentes",
        ],
        number_after_street: true,
        phone: "+525555010###",
        weight: 10,
        unit_prefix: "Depto. ",
    },
    Country {
        code: "IN",
        cities: &[
            city("Bengaluru", "KA", "5600##", None),
            city("Mumbai", "MH", "4000##", None),
            city("Pune", "MH", "4110##", None),
            city("Hyderabad", "TG", "5000##", None),
            city("Chennai", "TN", "6000##", None),
        ],
        streets: &[
            "MG Road",
            "Brigade Road",
            "Linking Road",
            "Park Street",
            "Anna Salai",
        ],
        number_after_street: false,
        phone: "+919876500###",
        weight: 13,
        unit_prefix: "Flat ",
    },
    Country {
        code: "AU",
        cities: &[
            city("Sydney", "NSW", "20##", None),
            city("Melbourne", "VIC", "30##", None),
            city("Brisbane", "QLD", "40##", None),
            city("Perth", "WA", "60##", None),
        ],
        streets: &[
            "George Street",
            "Collins Street",
            "Queen Street",
            "Hay Street",
            "Flinders Lane",
        ],
        number_after_street: false,
        phone: "+61491570###",
        weight: 10,
        unit_prefix: "Unit ",
    },
];

pub(crate) const US_AREA_CODES: &[&str] = &[
    "212", "718", "201", "415", "510", "512", "312", "206", "303", "617", "404", "503", "612",
];

/// A department with its titles by level.
pub(crate) struct Dept {
    pub id: &'static str,
    pub name: &'static str,
    pub weight: u32,
    pub head: &'static str,
    pub director: &'static str,
    pub manager: &'static str,
    pub ics: &'static [&'static str],
    pub intern: &'static str,
}

/// The executive team: index 0 of [`DEPARTMENTS`]; only the CEO is in it.
pub(crate) const DEPARTMENTS: &[Dept] = &[
    Dept {
        id: "dep_exec",
        name: "Executive",
        weight: 0,
        head: "Chief Executive Officer",
        director: "Chief of Staff",
        manager: "Chief of Staff",
        ics: &["Executive Assistant"],
        intern: "Executive Intern",
    },
    Dept {
        id: "dep_eng",
        name: "Engineering",
        weight: 25,
        head: "VP of Engineering",
        director: "Director of Engineering",
        manager: "Engineering Manager",
        ics: &[
            "Software Engineer",
            "Senior Software Engineer",
            "Staff Engineer",
            "Site Reliability Engineer",
            "QA Engineer",
            "Data Engineer",
        ],
        intern: "Software Engineering Intern",
    },
    Dept {
        id: "dep_product",
        name: "Product",
        weight: 7,
        head: "VP of Product",
        director: "Director of Product",
        manager: "Group Product Manager",
        ics: &[
            "Product Manager",
            "Senior Product Manager",
            "Product Analyst",
        ],
        intern: "Product Intern",
    },
    Dept {
        id: "dep_design",
        name: "Design",
        weight: 5,
        head: "Head of Design",
        director: "Design Director",
        manager: "Design Manager",
        ics: &[
            "Product Designer",
            "Senior Product Designer",
            "UX Researcher",
        ],
        intern: "Design Intern",
    },
    Dept {
        id: "dep_sales",
        name: "Sales",
        weight: 18,
        head: "VP of Sales",
        director: "Director of Sales",
        manager: "Sales Manager",
        ics: &[
            "Account Executive",
            "Sales Development Representative",
            "Solutions Engineer",
        ],
        intern: "Sales Intern",
    },
    Dept {
        id: "dep_marketing",
        name: "Marketing",
        weight: 8,
        head: "VP of Marketing",
        director: "Director of Marketing",
        manager: "Marketing Manager",
        ics: &[
            "Content Marketer",
            "Growth Marketer",
            "Marketing Coordinator",
        ],
        intern: "Marketing Intern",
    },
    Dept {
        id: "dep_cs",
        name: "Customer Success",
        weight: 12,
        head: "VP of Customer Success",
        director: "Director of Customer Success",
        manager: "Support Manager",
        ics: &[
            "Customer Success Manager",
            "Support Specialist",
            "Implementation Specialist",
        ],
        intern: "Customer Success Intern",
    },
    Dept {
        id: "dep_finance",
        name: "Finance",
        weight: 5,
        head: "Chief Financial Officer",
        director: "Controller",
        manager: "Accounting Manager",
        ics: &["Accountant", "Financial Analyst", "Payroll Specialist"],
        intern: "Finance Intern",
    },
    Dept {
        id: "dep_people",
        name: "People",
        weight: 5,
        head: "Chief People Officer",
        director: "Director of People",
        manager: "Recruiting Manager",
        ics: &["Recruiter", "HR Generalist", "People Partner"],
        intern: "People Intern",
    },
    Dept {
        id: "dep_legal",
        name: "Legal",
        weight: 3,
        head: "General Counsel",
        director: "Deputy General Counsel",
        manager: "Legal Operations Manager",
        ics: &["Counsel", "Paralegal", "Compliance Analyst"],
        intern: "Legal Intern",
    },
    Dept {
        id: "dep_ops",
        name: "Operations",
        weight: 10,
        head: "Chief Operating Officer",
        director: "Director of Operations",
        manager: "Operations Manager",
        ics: &["Operations Analyst", "Office Manager", "IT Specialist"],
        intern: "Operations Intern",
    },
];

/// Offices: id, name, line1, city, state, postal code, country.
pub(crate) const OFFICES: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "off_nyc",
        "New York",
        "100 Broadway",
        "New York",
        "NY",
        "10005",
        "US",
    ),
    (
        "off_sf",
        "San Francisco",
        "500 Howard St",
        "San Francisco",
        "CA",
        "94105",
        "US",
    ),
    (
        "off_aus",
        "Austin",
        "300 Congress Ave",
        "Austin",
        "TX",
        "78701",
        "US",
    ),
    (
        "off_chi",
        "Chicago",
        "233 S Wacker Dr",
        "Chicago",
        "IL",
        "60606",
        "US",
    ),
    (
        "off_lon",
        "London",
        "1 Finsbury Avenue",
        "London",
        "",
        "EC2M 2PF",
        "GB",
    ),
    (
        "off_tor",
        "Toronto",
        "100 King Street West",
        "Toronto",
        "ON",
        "M5X 1A9",
        "CA",
    ),
];

/// Weights of the US offices (same order as the first four [`OFFICES`]).
pub(crate) const US_OFFICE_WEIGHTS: [u32; 4] = [40, 25, 20, 15];

pub(crate) const TSHIRT_SIZES: &[&str] = &["XS", "S", "M", "L", "XL", "XXL"];

pub(crate) const LANGUAGES: &[&str] = &[
    "English",
    "Spanish",
    "French",
    "German",
    "Polish",
    "Danish",
    "Vietnamese",
    "Hindi",
    "Mandarin",
    "Japanese",
    "Arabic",
    "Yoruba",
    "Portuguese",
    "Italian",
];

/// Lower-case ASCII letters and digits for `s`, with accents folded away
/// ("José" → "jose", "Łukasz" → "lukasz", "Nguyễn" → "nguyen"); other characters dropped.
pub(crate) fn fold_ascii(s: &str, out: &mut String) {
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
            continue;
        }
        for c in ch.to_lowercase() {
            let mapped: &str = match c {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ả' | 'ạ' | 'ằ' | 'ắ'
                | 'ẳ' | 'ẵ' | 'ặ' | 'ầ' | 'ấ' | 'ẩ' | 'ẫ' | 'ậ' => "a",
                'æ' => "ae",
                'ç' | 'ć' | 'č' => "c",
                'đ' | 'ð' | 'ď' => "d",
                'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' | 'ẻ' | 'ẽ' | 'ẹ' | 'ề' | 'ế' | 'ể'
                | 'ễ' | 'ệ' => "e",
                'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ỉ' | 'ĩ' | 'ị' => "i",
                'ł' | 'ľ' => "l",
                'ñ' | 'ń' | 'ň' => "n",
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'ỏ' | 'ọ' | 'ồ' | 'ố' | 'ổ'
                | 'ỗ' | 'ộ' | 'ơ' | 'ờ' | 'ớ' | 'ở' | 'ỡ' | 'ợ' => "o",
                'œ' => "oe",
                'ś' | 'š' | 'ş' => "s",
                'ß' => "ss",
                'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ủ' | 'ũ' | 'ụ' | 'ư' | 'ừ' | 'ứ'
                | 'ử' | 'ữ' | 'ự' => "u",
                'ý' | 'ÿ' | 'ỳ' | 'ỷ' | 'ỹ' | 'ỵ' => "y",
                'ź' | 'ż' | 'ž' => "z",
                'þ' => "th",
                _ => "",
            };
            out.push_str(mapped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(s: &str) -> String {
        let mut out = String::new();
        fold_ascii(s, &mut out);
        out
    }

    #[test]
    fn folds_accents() {
        assert_eq!(fold("José"), "jose");
        assert_eq!(fold("Zoë"), "zoe");
        assert_eq!(fold("Łukasz"), "lukasz");
        assert_eq!(fold("Søren"), "soren");
        assert_eq!(fold("Nguyễn"), "nguyen");
        assert_eq!(fold("Đặng"), "dang");
        assert_eq!(fold("O'Brien"), "obrien");
        assert_eq!(fold("Groß"), "gross");
        assert_eq!(fold("de la Cruz"), "delacruz");
    }

    /// Every letter in every name folds to something, so no email local part loses
    /// a letter silently.
    #[test]
    fn every_name_letter_folds() {
        for c in CULTURES {
            for name in c.male.iter().chain(c.female).chain(c.family) {
                for ch in name.chars().filter(|c| c.is_alphabetic()) {
                    assert!(!fold(&ch.to_string()).is_empty(), "{ch} in {name}");
                }
            }
        }
        for (_, nick) in NICKNAMES {
            assert!(!fold(nick).is_empty());
        }
    }

    #[test]
    fn cultures_have_names() {
        for c in CULTURES {
            assert!(!c.male.is_empty() && !c.female.is_empty() && !c.family.is_empty());
            assert!(LANGUAGES.contains(&c.language), "{}", c.language);
        }
    }
}
