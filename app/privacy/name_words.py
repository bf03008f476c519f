"""Word lists the identifier detector (app.privacy.identifiers) reads: months, street words,
US states, common first names, words that are never names, titles, credentials, roles, labels
and relations that come before a name, organisation words. Data only."""

from __future__ import annotations

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)

WEEKDAYS = (
    "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Tues|Wed|Thu|Thur|Fri|Sat|Sun"
)

STREET = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    "Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Plaza|Square|Sq|Close|Crescent|Cres|Grove|"
    "Row|Walk|Mews|Gardens|Gdns|Trail|Yard|Pike|Alley|Loop|Run|Green|Hill|Rise|View|Wharf|Quay|"
    "Approach|Parade|Broadway|Esplanade|Causeway|Embankment|Hollow|Chase"
)

US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
    "NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|"
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|"
    "Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|"
    "Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|"
    "New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|"
    "Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|"
    "West Virginia|Wisconsin|Wyoming|NSW|VIC|QLD|TAS|ACT|NT|ON|QC|BC|AB"
)

BUILTIN_FIRST_NAMES = frozenset(
    """
    Aaron Abdul Abena Abigail Adam Adebayo Adrian Ahmed Aidan Aisha Aisling Akira Alan Albert
    Alejandro Aleksandra Alex Alexander Alexandra Alexis Ali Alice Alicia Alison Allison Amanda
    Amara Amelia Amina Amir Amit Amy Ana Anan Andre Andrea Andrew Angela Anh Anita Ann Anna Anne
    Anthony Antonio Anya Arjun Arthur Ashley Aziz Barbara Beatrice Ben Benjamin Bernard Beth
    Betty Beverly Bianca Blessing Bogdan Brandon Brenda Brian Bridget Brianna Bruce Bryan
    Caitlin Cameron Camila Carl Carla Carlos Carmen Carol Caroline Catherine Cecilia Charles
    Charlotte Chen Chiamaka Chidi Chinedu Chloe Chris Christian Christina Christine Christopher
    Ciara Claire Clara Colin Connor Craig Cristina Cynthia Daniel Daniela Danielle Darnell
    David Dean Deborah Declan Deepa Denise Dennis Derek Diana Diane Diego Dmitri Dolores Donald
    Donna Doris Dorothy Douglas Dylan Edward Eileen Elaine Eleanor Elena Elif Elijah Elizabeth
    Ella Ellen Emily Emma Emmanuel Eric Erin Esther Ethan Eugene Eugenia Eva Evelyn Fatima
    Farah Felix Fernando Fiona Francesca Francis Frank Funmi Gabriel Gareth Gary Gemma George
    Gerald Giulia Giovanni Gloria Grace Graham Greg Gregory Greta Hamza Hannah Harold Harriet
    Harry Hassan Heather Helen Henry Hiroshi Holly Hugh Hussein Ian Ibrahim Imran Ines Ingrid
    Irene Isaac Isabel Isabella Ivan Jack Jacob Jacqueline Jake James Jamal Jan Jane Janet
    Janice Jason Javier Jean Jeffrey Jennifer Jeremy Jerome Jessica Jian Joan Joanna Joe John
    Jonathan Jordan Jorge Jose José Joseph Joshua Joyce Juan Judith Julia Julian Julie Justin
    Kai Karen Karim Kate Katherine Kathleen Kathryn Keiko Keith Kelly Kenji Kenneth Kevin
    Khalid Kim Kimberly Kwame Kyle Lakshmi Laura Lauren Lawrence Leah Lee Leon Leonard Li Liam
    Lillian Linda Lisa Lorenzo Lorraine Louis Louise Lucas Lucia Lucía Luis Luke Lydia Lynn
    Madison Magdalena Mandla Manuel Marco Marcus Margaret Maria María Marie Marisol Mark
    Martha Martin Mary Mateo Matthew Maureen Megan Mei Melissa Mercy Michael Michelle Miguel
    Mikhail Min Mohamed Mohammed Monica Morgan Muhammad Nadia Nancy Naomi Natalie Nathan Neil
    Nicholas Nicole Niamh Nikhil Nina Noah Nora Norma Obinna Olga Olivia Oliver Omar Oluwaseun
    Oscar Owen Pablo Pamela Patricia Patrick Paul Paula Pedro Peter Philip Phyllis Pierre Pooja
    Priya Rachel Rafael Rahul Rajesh Ralph Ramon Raymond Rebecca Rhys Richard Rita Robert
    Roberto Robin Rodrigo Roger Ronald Rosa Rose Ruth Ryan Sadia Samantha Samuel Sandra Sanjay
    Sara Sarah Scott Sean Sergei Shannon Sharon Shirley Siobhán Siobhan Sofia Sophia Sophie
    Stefan Stephanie Stephen Steven Sunil Susan Sven Tanya Tara Teresa Terrence Theo Theodore
    Theresa Thomas Timothy Tom Tomas Tony Tracy Tyler Valentina Valerie Vanessa Victor Victoria
    Vikram Vincent Virginia Walter Wayne Wei William Xavier Yan Yasmin Yolanda Yusuf Zachary
    Zainab Zhang Zoe
    """.split()
)

# Census first names that are also everyday words: not evidence of a name on their own.
AMBIGUOUS_FIRST_NAMES = frozenset(
    """
    Will May June April August Summer Autumn Winter Dawn Joy Faith Hope Grace Major Young Royal
    Chance Son Golden Sterling Page Art Bill Pat Sue Guy Frank Sharp Rich Early Long Rose Ivy
    Lily Daisy Iris Ruby Pearl Amber Crystal Jewel Star Sky Rain Storm Sunny Honey Sugar Candy
    Brown Green White Gray Grey Black Love Lucky Precious Princess King Queen Prince Duke Earl
    Baron Marshal Judge Bishop Deacon Parish Church Christian Noble Justice Lane Dale Glen Hill
    Forest Wood Field Ford Banks Brook Cliff Rock Stone Reed Rush Heath Moss Fern Holly Hazel
    Olive Ginger Pepper Basil Sage Tory Miles Mark Bob Don Jack Will Bud Buck Hunter Fisher
    Taylor Carter Cooper Mason Baker Porter Chase Pierce Drew Grant Hale Wade Rod Ray Max Gene
    Roy Van Sol Cruz Vega Son Lee Les Ned Tom Nick Sam Al Ali Ira Eli Ian Ty Jay Kay Dee Lou
    Camp Case Carol Cherry Clay Colt Coy Cash Sonny Trinity Unique Genesis Destiny Harmony
    Heaven Miracle Nova Liberty Journey Legend Rebel Saint Angel Baby Doll Sweet Blue Merry
    Said Do Else Ok Many Man Lady Gay Ha Le La Ma Pa Mo Jo Ed Em In An On My Ai
    """.split()
)

# Capitalised words that are never a name (labels, headings, organisations, courts).
NOT_NAMES = frozenset(
    """
    The This That These Those There Their They He She His Her Our Your We You It Its And Or
    Of In On At To For From With By As If Re Subject Dear Sirs Madam Sir Hi Hello Thanks Thank
    Regards Kind Yours Sincerely Faithfully Truly Very Best Patient Pt Client Member Name Date
    Plaintiff Plaintiffs Defendant Defendants Debtor Debtors Claimant Insurer Court County
    District Circuit Superior Supreme State United States Department Division Law Estate Trust
    Hospital Clinic Center Centre Medical Medicine Health Healthcare Insurance Mutual Plan
    Company Corp Corporation Inc Incorporated LLC LLP Ltd Limited Group Associates Partners
    Solicitors Practice Surgery Pharmacy Services Systems Diagnostics Logistics Lettings Bank
    University College School Board Office Team Unit Ward Review Coordination Records Custodian
    Care Family Pediatrics Orthopedic Cardiology Rheumatology Endocrinology Radiology Nephrology
    Oncology Psychiatry Emergency Department Internal History Plan Assessment Findings
    Impression Exam Procedure Diagnosis Diagnoses Chief Complaint Notes Note Summary Letter
    Report Memo Memorandum Notice Motion Order Agreement Release Payment Settlement Deposition
    Declaration Certification Answers Interrogatories Subpoena Instruction Instructions
    Executors Gifts Meeting Internal Related Assigned Judge Justice Honorable Hon Mr Mrs Ms
    Miss Dr Prof Professor Attorney Counsel Esq MD DO RN NP PA DOB MRN NPI SSN ID No Number
    Tel Phone Fax Email Cell Home Work Mobile Address Street Road Avenue Lane Drive Suite Apt
    Flat North South East West New Central Saint St Mount Fort Valley Point
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April
    June July August September October November December Page Pages Copy Via Support Opposition
    Summary Judgment Certified Mail General Infirmary Harbor Harbour Valley Mercy
    Private Confidential Privileged Electronically Signed Dictated Ordering Attending Referring
    Admission Discharge Follow Hospital Course Current Medications Allergies Social Past
    Blood Chest Stage Type Acute Chronic Right Left Continue Start Stop Recheck Discussed
    Reviewed Advised Denies Reports Presents Presented Lives Visit Next Caregiver Home
    Vital Signs Pulse Generator Model Lab Laboratory Catheterization Catheter Foley Scan Scans
    Moya Syndrome Disease Sign Test Score Scale Criteria Protocol Trial Study Unit Lead Leads
    Examiner Custodian Prescriber Mother Father Daughter Son Wife Husband Brother Sister
    Neighbour Neighbor Nurse GP MAC IMEI UDI SN VIN DEA IP URL Portal Claims Adjuster
    Appointment Clinic Direct Line Secretary Requesting Collection Tests Clinical Copy Agency
    Payer Guarantor Statement Questions Provider Tax Claim Policy Account Statement Please
    Matter Client-Matter Woman Man Fee Earner Adult Young Senior Junior Opposing Natural Last
    Known Guardianship Adoption Custody Marriage Minor Hearing Probate Registry Land Title
    """.split()
)

PARTICLES = (
    "de|del|della|der|den|ten|ter|het|di|da|dos|das|du|van|von|vom|zu|la|le|bin|binti|ibn|al|el|"
    "ap|Ní|Nic|Mac|Ó|Ua|Mhic|Uí"
)

TITLES = (
    r"Mr|Mrs|Ms|Miss|Mx|Dr|Doctor|Prof|Professor|Judge|Justice|Hon|Honorable|Sister|Nurse|"
    r"Attorney|Atty|Rev|Fr|Sgt|Officer|Detective|Det|Adjuster|Senator|Rabbi|Pastor|"
    r"Frau|Herr|Mme|Mlle|Madame|Monsieur|Señora|Señor|Sra|Sr|Dott|Signora|Signor|Mevrouw|"
    r"(?-i:PA|NP|RN|CNA)"
)

CREDENTIALS = (
    r"M\.?D\.?|D\.?O\.?|R\.?N\.?|N\.?P\.?|P\.?A\.?(?:-C)?|PharmD|LCSW|LPC|LMFT|CDE|CNM|FNP|"
    r"DNP|PhD|Ph\.D\.|PsyD|DDS|DMD|MBBS|MBChB|RMN|RGN|RNLD|RSCN|RHV|CPN|AMHP|DClinPsy|MSW|"
    r"FRCP|FRCS|FRCR|FRCA|FRCPath|FRCOG|MRCS|MRCGP|MRCP|Esq\.?|QC|KC|JD|LPN|CNA|OT|PT|DPT"
)

ROLES = (
    r"Partner|Associate|Paralegal|Solicitor|Barrister|Attorney|Counsel|Consultant|Director|"
    r"Manager|Pharmacist|Physician|Surgeon|Resident|Fellow|Registrar|Coordinator|Adjuster|"
    r"Administrator|Executor|Trustee|Secretary|Clerk|Nurse|Therapist|Social Worker|Case Manager|"
    r"Physiotherapist|Dentist|Dietitian|Specialist|Midwife|Practitioner|Officer|Worker|Adviser|"
    r"Advisor|Assistant|Technician|Technologist|Scientist|Psychologist|Optometrist|Paramedic|"
    r"Engineer|Analyst|Agent|Broker|Notary|Mediator|Arbitrator|Investigator"
)

STRONG_LABELS = (
    r"Patient(?: name| Surname)?|Pt(?: name)?|Name|Full name|Surname|Family name|Last name|"
    r"Given names?|First name|Client|Member|Beneficiary|Medicare Beneficiary|Subscriber|"
    r"Guarantor|Insured|Policyholder|Caller|Testator|Testatrix|Deceased|Decedent|Claimant|"
    r"Applicant|Respondent|Petitioner|Employee|Tenant|Attending|Surgeon|Assistant|Anesthesia|"
    r"Anaesthetist|Referring|Ordering|Requesting doctor|Dictated by|Signed by|"
    r"Electronically signed by|Seen by|Pharmacist|Emergency contact|Next of kin|NOK|"
    r"Responsible attorney|Issued by|Identifying data|Home health patient|Our client|"
    r"Your client|Executors?|Witness|Interpreter|Parent|Guardian|Mother|Father|PCP|GP|"
    r"Physician|Provider name|Author|Prepared by|Reviewed by|cc|CC|Cc|Dear|Hi|Hello|Attn|ATTN|"
    r"Mediator|Arbitrator|Signed|Parties|Children|Child|Informant|Submitting physician|"
    r"Counsel|Sender|Recipient|Borrower|Lender|Buyer|Seller|Landlord|Tenant|Patient's name|"
    r"Custodian|Examiner|Prescriber|Reported by|Examined by|Beneficiary|Decedent|Testatrix|"
    r"Radiologist|Consultant|District nurse|Neighbou?r|Daughter|Clinician|Driver(?: \d)?|"
    r"Passenger(?: \d)?|Owner|Registered owner|Occupant|Pedestrian|Cyclist|Victim|Suspect|"
    r"Ordering provider|Ordering physician|Rendering provider|Manager|Supervisor|Custodian"
)

WEAK_LABELS = r"To|From|TO|FROM|Re|RE|Subject|Caregiver|Contact"

RELATIONS = (
    r"wife|husband|spouse|partner|son|daughter|mother|father|mom|mum|dad|brother|sister|"
    r"nephew|niece|grandson|granddaughter|grandchildren|grandchild|grandmother|grandfather|"
    r"aunt|uncle|cousin|fiancée?|girlfriend|boyfriend|friend|neighbou?r|caregiver|carer|"
    r"guardian|supervisor|manager|colleague|landlord|tenant|employer|employee|children|child|"
    r"stepson|stepdaughter|sons|daughters|beneficiaries are|trustee is"
)

ROLES_BEFORE = (
    r"paralegal|counsel|attorney|lawyer|solicitor|barrister|midwife|registrar|nurse|doctor|physician|surgeon|"
    r"consultant|therapist|pharmacist|adjuster|client|clerk|associate|advocate|caseworker|"
    r"social worker|interpreter|witness|executor|executrix|trustee|officer|resident|woman|man|"
    r"patient|pt|baby|infant|minor|student|employee|worker|applicant|debtor|decedent"
)

# Words that end a name and show the whole phrase is an organisation or a place.
ORG_WORDS = frozenset(
    """
    Law LLP LLC Inc Ltd Limited Corp Corporation Company Co Group Associates Partners Solicitors
    Hospital Clinic Center Centre Medical Health Healthcare Insurance Bank University College
    School Court County Practice Surgery Pharmacy Services Systems Diagnostics Logistics
    Lettings Trust Foundation Mutual Pediatrics Orthopedic Family Medicine Homes Grocers Lines
    Freight Plan Board Act Street St Road Rd Avenue Ave Lane Drive Boulevard Blvd Terrace Way
    Place Court Yard House Building Tower River City Town Village Square
    """.split()
)

# Everyday English words (title-cased) that are also in the census name lists or the city list:
# never evidence of a name or a place on their own.
COMMON_WORDS = frozenset(
    w.title()
    for w in """
    a about above after again against all also am an and any are as at be because been before
    being below best between both but by can could did do does doing down during each few for
    from further had has have having he her here hers him his how i if in into is it its just
    me more most my no nor not now of off on once only or other our out over own same she should
    so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your
    yours said says told asked called seen given taken made done note notes plan daily weekly
    mother father son daughter wife husband brother sister nurse doctor patient client pt care
    home house office clinic ward bed room unit floor door street road lane park way hill green
    brown white black gray grey long short young old new good well bad early late last next first
    second third fourth fifth one two three four five six seven eight nine ten hundred thousand
    morning evening night day week month year today tomorrow yesterday time hour minute
    eagle bear wolf fox hawk crane swan dove robin finch wren lark jay
    pain blood heart lung liver kidney bone skin head neck back chest arm leg hand foot eye ear
    stable normal mild moderate severe acute chronic review follow refill call called phone fax
    email letter report result results test tests scan scans imaging exam history social
    family past present current prior none nil see per via re cc bcc attn dear sir madam
    mr mrs ms dr prof hon esq md do rn np pa ok yes no please thanks thank regards sincerely
    union city town village county state country nation region district north south east west
    central upper lower middle river lake sea bay port harbour harbor beach island mount valley
    spring summer autumn winter fall march may june august
    either neither each every both another such upon without within whether though although
    unless shall must might hereby herein hereof thereof therein hereunder thereunder party
    parties company agent consultant provider recipient purchase sale price goods delivery
    """.split()
)

# Places at state level or above: Safe Harbor keeps them (never redacted as a person or place).
PLACES_NOT_REDACTED = frozenset(
    """
    Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia
    Hawaii Idaho Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts
    Michigan Minnesota Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon
    Pennsylvania Tennessee Texas Utah Vermont Virginia Washington Wisconsin Wyoming
    England Scotland Wales Ireland Britain America Canada Mexico Spain France Germany Italy
    Portugal Netherlands Belgium Poland Romania Nigeria Ghana Kenya India China Japan Brazil
    Australia Europe Africa Asia Turkey Jordan Chad Niger Israel Lebanon Russia Ukraine Greece
    Austria Switzerland Sweden Norway Denmark Finland Iceland Cuba Jamaica Haiti Peru Chile
    Colombia Argentina Venezuela Ecuador Bolivia Pakistan Bangladesh Vietnam Thailand Korea
    Philippines Indonesia Malaysia Singapore Egypt Morocco Algeria Tunisia Libya Sudan Ethiopia
    Somalia Uganda Tanzania Zambia Zimbabwe Namibia Botswana Angola Senegal Mali Guinea Benin Togo
    Cameroon Gabon Congo Rwanda Burundi Malawi Mozambique Madagascar Iran Iraq Syria Yemen Oman
    Qatar Kuwait Bahrain Afghanistan Nepal Tibet Mongolia Taiwan Vatican Monaco Luxembourg
    Federal National International Global Medicare Medicaid Aetna Cigna Humana Kaiser
    """.split()
)

UK_COUNTIES = frozenset(
    """
    Cornwall Devon Dorset Somerset Wiltshire Hampshire Kent Surrey Sussex Essex Suffolk Norfolk
    Cambridgeshire Hertfordshire Bedfordshire Buckinghamshire Oxfordshire Berkshire
    Gloucestershire Worcestershire Warwickshire Herefordshire Shropshire Staffordshire Cheshire
    Derbyshire Nottinghamshire Leicestershire Lincolnshire Northamptonshire Rutland Lancashire
    Cumbria Northumberland Durham Merseyside Yorkshire Humberside Cleveland Tyne and Wear
    Fife Lothian Lanarkshire Ayrshire Aberdeenshire Highland Argyll Perthshire Angus Moray
    Gwynedd Powys Dyfed Glamorgan Gwent Clwyd Pembrokeshire Carmarthenshire Ceredigion
    Antrim Armagh Down Fermanagh Londonderry Tyrone Cork Kerry Limerick Clare Galway Mayo Sligo
    Donegal Wexford Wicklow Kildare Meath Louth Kilkenny Tipperary Waterford Offaly Laois
    Westmeath Longford Roscommon Leitrim Cavan Monaghan Carlow
    """.split()
)

# Head nouns of a contract's defined terms ("Indemnifying Party", "Licensed Marks", "Escrow
# Agent"): census surnames too, but after a word that is not a given name they end a term.
DEFINED_TERM_HEADS = frozenset(
    """
    Party Parties Agent Agents Agreement Marks Mark Rights Right Fees Fee Content Site Sites
    Information Materials Material Products Product Services Service Territory Term Terms Date
    Dates Period Notice Price Prices Property Properties Technology Software Data Documentation
    Venture Quantity Payable Receivable Section Schedule Exhibit Pro Transfer Mechanism Plan
    Program Programme Platform Brand Brands Name Names Store Stores Account Accounts Costs Cost
    Payment Payments Royalty Royalties License Licence Licensee Licensor Owner Holder Buyer Seller
    Supplier Customer Customers Distributor Vendor Contractor Consultant Client Lender Borrower
    Guarantor Trustee Sponsor Developer Manufacturer Provider Recipient Discloser Company Event
    Events Law Laws Claim Claims Loss Losses Liability Damages Assets Asset Shares Stock Interest
    Capital Budget Report Reports Order Orders Forecast Specifications Standards Deliverables
    Milestone Milestones Patents Patent Know How Improvements Competitor Affiliate Affiliates
    Plasma Source Code Escrow Deposit Release Bank Banks Card Cards Network Partner Partners
    Seal Sales Sale Host Bidder Bid Franchisee Franchisor Franchise Invoice Invoices Venue
    Shipper Shippers Goods Delivery Deliveries Receipt Receipts Purchaser Licensees Licensors
    """.split()
)
