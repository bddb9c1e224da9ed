"""Realistic random order contents: Chinese buyers and addresses across provinces, a small catalogue,
the remarks sellers really get (指定顺丰, 礼物, 加急, 不要发韵达 …)."""

from decimal import Decimal

# province, city, districts, postcode
REGIONS = [
    ("浙江省", "杭州市", ["西湖区", "余杭区", "拱墅区", "滨江区"], "310000"),
    ("浙江省", "宁波市", ["鄞州区", "海曙区"], "315000"),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区", "龙岗区"], "518000"),
    ("广东省", "广州市", ["天河区", "海珠区", "白云区"], "510000"),
    ("北京市", "北京市", ["朝阳区", "海淀区", "丰台区"], "100000"),
    ("上海市", "上海市", ["浦东新区", "徐汇区", "闵行区"], "200000"),
    ("江苏省", "南京市", ["鼓楼区", "江宁区"], "210000"),
    ("江苏省", "苏州市", ["姑苏区", "工业园区"], "215000"),
    ("四川省", "成都市", ["武侯区", "锦江区", "高新区"], "610000"),
    ("湖北省", "武汉市", ["洪山区", "江汉区"], "430000"),
    ("山东省", "青岛市", ["市南区", "崂山区"], "266000"),
    ("河南省", "郑州市", ["金水区", "二七区"], "450000"),
    ("福建省", "厦门市", ["思明区", "湖里区"], "361000"),
    ("陕西省", "西安市", ["雁塔区", "碑林区"], "710000"),
    ("黑龙江省", "哈尔滨市", ["南岗区", "道里区"], "150000"),
    ("新疆维吾尔自治区", "乌鲁木齐市", ["天山区", "沙依巴克区"], "830000"),
    ("广西壮族自治区", "南宁市", ["青秀区", "兴宁区"], "530000"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高欧阳"
GIVEN_NAMES = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明",
               "超", "秀兰", "霞", "平", "刚", "桂英", "子涵", "浩然", "梓萱", "一诺"]
STREETS = ["文三路", "科技园南路", "人民路", "解放大道", "中山路", "建设路", "学院路", "长江路", "新华街", "滨江大道"]
TOWNS = ["街道办", "镇", "街道"]
NICK_WORDS = ["小", "爱吃", "momo", "tb", "快乐的", "阿", "cc", "大白", "晴天", "木子"]

# title, spec, merchant code (empty: the seller never filled in the 商家编码), unit price
CATALOGUE = [
    ("不锈钢保温杯 500ml", "颜色:白色", "BWB-500-WH", "89.00"),
    ("不锈钢保温杯 500ml", "颜色:黑色", "BWB-500-BK", "89.00"),
    ("纯棉四件套 1.8m", "颜色:灰色;尺寸:1.8m", "SJT-180-GY", "299.00"),
    ("家用电热水壶 1.7L", "容量:1.7L", "DRH-17", "129.90"),
    ("无线蓝牙耳机", "颜色:白色", "EJ-BT-01", "159.00"),
    ("手工红糖 500g", "规格:500g", "", "25.80"),
    ("儿童保温饭盒", "颜色:粉色", "BWFH-PK", "69.00"),
    ("加厚浴巾 70x140", "颜色:米白", "YJ-70140-MB", "45.50"),
    ("陶瓷马克杯 礼盒装", "款式:猫咪", "MKB-GIFT-CAT", "38.00"),
    ("坚果礼盒 1.2kg", "规格:1.2kg", "JG-LH-1200", "168.00"),
]
BUYER_REMARKS = ["", "", "", "指定顺丰", "礼物，请不要放发票和价格单", "加急，明天要用", "不要发韵达", "请用顺丰，谢谢",
                 "周末不在家，请放快递柜", "送人的，包装好一点"]
SELLER_MEMOS = ["", "", "", "已核对地址", "赠品: 杯刷", "老客户，优先发货", "缺货待补，延后发"]


def random_name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def random_mobile(rng):
    return rng.choice(["138", "139", "151", "186", "177", "199", "135"]) + f"{rng.randint(0, 99999999):08d}"


def random_receiver(rng):
    province, city, districts, postcode = rng.choice(REGIONS)
    district = rng.choice(districts)
    street = rng.choice(STREETS)
    return {
        "name": random_name(rng),
        "mobile": random_mobile(rng),
        "phone": "",
        "country": "中国",
        "province": province,
        "city": city,
        "district": district,
        "town": district[:-1] + rng.choice(TOWNS),
        "address": f"{street}{rng.randint(1, 399)}号{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(101, 2806)}室",
        "zip": postcode,
    }


def random_lines(rng):
    chosen = rng.sample(CATALOGUE, k=rng.choice([1, 1, 1, 2, 2, 3]))
    return [
        {
            "sku_id": f"{5000000000 + CATALOGUE.index(entry) * 7919}",
            "item_id": f"{6000000 + CATALOGUE.index(entry) // 2}",
            "merchant_code": entry[2], "title": entry[0], "spec": entry[1],
            "quantity": rng.choice([1, 1, 1, 2, 3]), "price": entry[3],
        }
        for entry in chosen
    ]


def random_order_spec(rng):
    """Everything add_order needs for one plausible order."""
    lines = random_lines(rng)
    goods = sum(Decimal(line["price"]) * line["quantity"] for line in lines)
    return {
        "buyer_nick": rng.choice(NICK_WORDS) + random_name(rng) + str(rng.randint(1, 999)),
        "buyer_id": f"buyer{rng.randint(10**9, 10**10 - 1)}",
        "receiver": random_receiver(rng),
        "lines": lines,
        "remark": rng.choice(BUYER_REMARKS),
        "seller_memo": rng.choice(SELLER_MEMOS),
        "seller_flag": rng.choice([0, 0, 0, 1, 4]),
        "post_fee": rng.choice([Decimal("0"), Decimal("0"), Decimal("8.00"), Decimal("12.00")]),
        "discount": (goods * Decimal(rng.choice(["0", "0", "0.05", "0.1"]))).quantize(Decimal("0.01")),
        "virtual_mobile": rng.random() < 0.15,
    }
